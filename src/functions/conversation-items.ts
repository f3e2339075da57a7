/**
 * OpenAI's Conversations API (https://platform.openai.com/docs/api-reference/conversations) over the same rows as
 * `/messages`: metadata updates and the item routes. A conversation started through either API works in both.
 */
import { messagePage } from '../conversations/pages.js';
import { notFound } from '../errors.js';
import { defineFunction, json } from '../http/handler.js';
import { listPage } from '../http/list-page.js';
import { newRows, rowItem } from '../responses/conversation-items.js';
import {
  addItemsSchema,
  conversationSchema,
  listMessagesQuerySchema,
  updateConversationSchema,
} from '../schemas/conversations.js';
import { itemListSchema, storedItemSchema } from '../schemas/responses.js';
import { encodingForDeployment } from '../services/model-call.js';
import { parseMessageId, publicConversation } from '../storage/conversation-store.js';
import { resolveDeployment } from '../upstream/index.js';
import { conversations } from './conversations.js';

async function itemOf(userId: string, params: Record<string, string>) {
  const meta = await conversations().get(userId, params.id ?? '');
  const itemId = params.item_id ?? '';
  const seq = parseMessageId(itemId);
  const missing = () => notFound(`No item '${itemId.slice(0, 64)}' in this conversation.`, 'item_not_found');
  if (seq === undefined || seq < 1 || seq > meta.message_count) throw missing();
  const item = rowItem((await conversations().range(meta.id, seq, seq))[0]!);
  if (!item) throw missing();
  return { meta, seq, item };
}

export const conversationItemFunctions = [
  defineFunction({
    name: 'updateConversation',
    route: 'v1/conversations/{id}',
    methods: ['POST'],
    caller: 'required',
    body: updateConversationSchema,
    docs: {
      summary: "Replace a conversation's metadata.",
      tags: ['conversations'],
      responses: { 200: conversationSchema },
    },
    async handle({ body, params, principal }) {
      const meta = await conversations().get(principal.id, params.id ?? '');
      return json(200, publicConversation(await conversations().updateMetadata(meta, body.metadata)));
    },
  }),
  defineFunction({
    name: 'listConversationItems',
    route: 'v1/conversations/{id}/items',
    methods: ['GET'],
    caller: 'required',
    query: listMessagesQuerySchema,
    docs: {
      summary: "A conversation's items (OpenAI item list, cursor pages).",
      tags: ['conversations'],
      responses: { 200: itemListSchema },
    },
    async handle({ params, query, principal }) {
      const meta = await conversations().get(principal.id, params.id ?? '');
      const { from, to, hasMore } = messagePage(meta.message_count, query);
      const items = (await conversations().range(meta.id, from, to)).flatMap((row) => rowItem(row) ?? []);
      if (query.order === 'desc') items.reverse();
      return json(200, listPage(items, hasMore));
    },
  }),
  defineFunction({
    name: 'addConversationItems',
    route: 'v1/conversations/{id}/items',
    methods: ['POST'],
    caller: 'required',
    body: addItemsSchema,
    docs: {
      summary: 'Append up to 20 items in one transaction (409 if another write landed first).',
      tags: ['conversations'],
      responses: { 200: itemListSchema },
    },
    async handle({ body, params, principal }) {
      const meta = await conversations().get(principal.id, params.id ?? '');
      const rows = newRows(encodingForDeployment(resolveDeployment('chat', meta.model)), body.items, 'items');
      const stored = await conversations().appendRows(meta, rows);
      return json(
        200,
        listPage(
          stored.flatMap((row) => rowItem(row) ?? []),
          false,
        ),
      );
    },
  }),
  defineFunction({
    name: 'getConversationItem',
    route: 'v1/conversations/{id}/items/{item_id}',
    methods: ['GET'],
    caller: 'required',
    docs: { summary: 'One item of a conversation.', tags: ['conversations'], responses: { 200: storedItemSchema } },
    async handle({ params, principal }) {
      return json(200, (await itemOf(principal.id, params)).item);
    },
  }),
  defineFunction({
    name: 'deleteConversationItem',
    route: 'v1/conversations/{id}/items/{item_id}',
    methods: ['DELETE'],
    caller: 'required',
    docs: {
      summary: 'Delete one item; answers the conversation (as OpenAI does).',
      tags: ['conversations'],
      responses: { 200: conversationSchema },
    },
    async handle({ params, principal }) {
      const { meta, seq } = await itemOf(principal.id, params);
      await conversations().deleteRow(meta, seq);
      return json(200, publicConversation(meta));
    },
  }),
];

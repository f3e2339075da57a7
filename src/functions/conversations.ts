import { messagePage } from '../conversations/pages.js';
import { runTurn } from '../conversations/turn.js';
import { defineFunction, json } from '../http/handler.js';
import { listPage } from '../http/list-page.js';
import { answerResponse, callContext } from '../http/model-answer.js';
import { resolveDeployment } from '../upstream/index.js';
import { newRows, publicMessage } from '../responses/conversation-items.js';
import {
  conversationListSchema,
  deletedConversationSchema,
  conversationSchema,
  createConversationSchema,
  listConversationsQuerySchema,
  listMessagesQuerySchema,
  messageListSchema,
  postMessageSchema,
  turnResponseSchema,
} from '../schemas/conversations.js';
import { encodingForDeployment } from '../services/model-call.js';
import { publicConversation, type ConversationStore } from '../storage/conversation-store.js';
import { TableConversationStore } from '../storage/table-conversation-store.js';
import { countMessageTokens } from '../tokens/chat.js';

let store: ConversationStore | undefined;
export const conversations = () => (store ??= new TableConversationStore());

export const conversationFunctions = [
  defineFunction({
    name: 'createConversation',
    route: 'v1/conversations',
    methods: ['POST'],
    caller: 'required',
    body: createConversationSchema,
    docs: {
      summary: 'Start a conversation (optionally with a system prompt and a model).',
      tags: ['conversations'],
      responses: { 201: conversationSchema },
    },
    async handle({ body, principal }) {
      const model = resolveDeployment('chat', body.model);
      const encoding = encodingForDeployment(model);
      const systemTokens = body.system ? countMessageTokens(encoding, { role: 'system', content: body.system }) : 0;
      const rows = newRows(encoding, body.items ?? [], 'items');
      const input = { model, system: body.system, title: body.title, systemTokens, metadata: body.metadata ?? {} };
      const created = await conversations().create(principal.id, input);
      if (rows.length === 0) return json(201, created);
      await conversations().appendRows(await conversations().get(principal.id, created.id), rows);
      return json(201, { ...created, message_count: rows.length });
    },
  }),
  defineFunction({
    name: 'listConversations',
    route: 'v1/conversations',
    methods: ['GET'],
    caller: 'required',
    query: listConversationsQuerySchema,
    docs: {
      summary: "The caller's conversations, newest first.",
      tags: ['conversations'],
      responses: { 200: conversationListSchema },
    },
    async handle({ query, principal }) {
      const page = await conversations().list(principal.id, query);
      return json(200, listPage(page.data, page.hasMore));
    },
  }),
  defineFunction({
    name: 'getConversation',
    route: 'v1/conversations/{id}',
    methods: ['GET'],
    caller: 'required',
    docs: { summary: "One conversation's metadata.", tags: ['conversations'], responses: { 200: conversationSchema } },
    async handle({ params, principal }) {
      return json(200, publicConversation(await conversations().get(principal.id, params.id ?? '')));
    },
  }),
  defineFunction({
    name: 'deleteConversation',
    route: 'v1/conversations/{id}',
    methods: ['DELETE'],
    caller: 'required',
    docs: {
      summary: 'Delete a conversation and every stored message of it.',
      tags: ['conversations'],
      responses: { 200: deletedConversationSchema },
    },
    async handle({ params, principal }) {
      const id = params.id ?? '';
      await conversations().delete(principal.id, id);
      // OpenAI's answer (https://platform.openai.com/docs/api-reference/conversations/delete); was a bare 204.
      return json(200, { id, object: 'conversation.deleted', deleted: true });
    },
  }),
  defineFunction({
    name: 'listMessages',
    route: 'v1/conversations/{id}/messages',
    methods: ['GET'],
    caller: 'required',
    query: listMessagesQuerySchema,
    docs: {
      summary: 'The stored history, in cursor pages (OpenAI list shape).',
      tags: ['conversations'],
      responses: { 200: messageListSchema },
    },
    async handle({ params, query, principal }) {
      const meta = await conversations().get(principal.id, params.id ?? '');
      const { from, to, hasMore } = messagePage(meta.message_count, query);
      const rows = await conversations().range(meta.id, from, to);
      const messages = rows.filter((m) => !m.deleted).map(publicMessage);
      if (query.order === 'desc') messages.reverse();
      return json(200, listPage(messages, hasMore));
    },
  }),
  defineFunction({
    name: 'postMessage',
    route: 'v1/conversations/{id}/messages',
    methods: ['POST'],
    caller: 'required',
    body: postMessageSchema,
    docs: {
      summary:
        'Send a user message; the service adds the history that fits, answers, and stores both turns ' +
        '(`stream: true` for SSE).',
      tags: ['conversations'],
      responses: { 200: turnResponseSchema },
      streams: true,
    },
    async handle(input) {
      const { params, body, principal } = input;
      const context = { ...callContext(input), caller: principal.id };
      return answerResponse(await runTurn(conversations(), params.id ?? '', body, context));
    },
  }),
];

import type { HttpRequest } from '@azure/functions';
import { messagePage } from '../conversations/pages.js';
import { runTurn } from '../conversations/turn.js';
import { defineFunction, json } from '../http/handler.js';
import { answerResponse, callContext } from '../http/model-answer.js';
import { requirePrincipal } from '../http/principal.js';
import { parseWith, queryObject, readJson } from '../http/request.js';
import { resolveDeployment } from '../upstream/index.js';
import {
  conversationListSchema,
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
const conversations = () => (store ??= new TableConversationStore());
const idOf = (request: HttpRequest) => request.params.id ?? '';

const list = <T extends { id: string }>(data: T[], hasMore: boolean) => ({
  object: 'list' as const,
  data,
  first_id: data[0]?.id ?? null,
  last_id: data.at(-1)?.id ?? null,
  has_more: hasMore,
});

export const conversationFunctions = [
  defineFunction({
    name: 'createConversation',
    route: 'v1/conversations',
    methods: ['POST'],
    docs: { summary: 'Start a conversation (optionally with a system prompt and a model).', tags: ['conversations'], body: createConversationSchema, responses: { 201: conversationSchema } },
    async handle(request) {
      const principal = requirePrincipal(request);
      const body = await readJson(request, createConversationSchema);
      const model = resolveDeployment('chat', body.model);
      const systemTokens = body.system ? countMessageTokens(encodingForDeployment(model), { role: 'system', content: body.system }) : 0;
      return json(201, await conversations().create(principal.id, { model, system: body.system, title: body.title, systemTokens }));
    },
  }),
  defineFunction({
    name: 'listConversations',
    route: 'v1/conversations',
    methods: ['GET'],
    docs: { summary: "The caller's conversations, newest first.", tags: ['conversations'], query: listConversationsQuerySchema, responses: { 200: conversationListSchema } },
    async handle(request) {
      const principal = requirePrincipal(request);
      const query = parseWith(listConversationsQuerySchema, queryObject(request));
      const page = await conversations().list(principal.id, query);
      return json(200, list(page.data, page.hasMore));
    },
  }),
  defineFunction({
    name: 'getConversation',
    route: 'v1/conversations/{id}',
    methods: ['GET'],
    docs: { summary: "One conversation's metadata.", tags: ['conversations'], responses: { 200: conversationSchema } },
    async handle(request) {
      const principal = requirePrincipal(request);
      return json(200, publicConversation(await conversations().get(principal.id, idOf(request))));
    },
  }),
  defineFunction({
    name: 'deleteConversation',
    route: 'v1/conversations/{id}',
    methods: ['DELETE'],
    docs: { summary: 'Delete a conversation and every stored message of it.', tags: ['conversations'], responses: { 204: 'Deleted.' } },
    async handle(request) {
      const principal = requirePrincipal(request);
      await conversations().delete(principal.id, await conversations().get(principal.id, idOf(request)));
      return { status: 204 };
    },
  }),
  defineFunction({
    name: 'listMessages',
    route: 'v1/conversations/{id}/messages',
    methods: ['GET'],
    docs: { summary: 'The stored history, in cursor pages (OpenAI list shape).', tags: ['conversations'], query: listMessagesQuerySchema, responses: { 200: messageListSchema } },
    async handle(request) {
      const principal = requirePrincipal(request);
      const query = parseWith(listMessagesQuerySchema, queryObject(request));
      const meta = await conversations().get(principal.id, idOf(request));
      const { from, to, hasMore } = messagePage(meta.message_count, query);
      const messages = await conversations().range(meta.id, from, to);
      if (query.order === 'desc') messages.reverse();
      return json(200, list(messages, hasMore));
    },
  }),
  defineFunction({
    name: 'postMessage',
    route: 'v1/conversations/{id}/messages',
    methods: ['POST'],
    docs: {
      summary: 'Send a user message; the service adds the history that fits, answers, and stores both turns (`stream: true` for SSE).',
      tags: ['conversations'],
      body: postMessageSchema,
      responses: { 200: turnResponseSchema },
      streams: true,
    },
    async handle(request) {
      const principal = requirePrincipal(request);
      const body = await readJson(request, postMessageSchema);
      return answerResponse(await runTurn(conversations(), idOf(request), body, { ...callContext(request), caller: principal.id }));
    },
  }),
];

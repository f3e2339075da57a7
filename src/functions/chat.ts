import type { HttpRequest } from '@azure/functions';
import { defineFunction, json } from '../http/handler.js';
import { principalOf } from '../http/principal.js';
import { readJson } from '../http/request.js';
import { sseResponse } from '../http/sse.js';
import { chatCompletionRequestSchema, chatCompletionSchema } from '../schemas/chat.js';
import { createChatCompletion, RawJson, type CallContext, type ModelAnswer } from '../services/chat.js';

/** Quotas charge the signed-in caller; without one, the shared anonymous budget. */
export const callContext = (request: HttpRequest): CallContext => ({ caller: principalOf(request)?.id ?? null });

/** JSON for a whole answer, Server-Sent Events for a streamed one. */
export function answerResponse<T>(answer: ModelAnswer<T>) {
  if (answer.stream) return sseResponse(answer.events);
  if (answer.body instanceof RawJson) return { status: 200, headers: { 'content-type': 'application/json' }, body: answer.body.text };
  return json(200, answer.body);
}

export const chatFunctions = [
  defineFunction({
    name: 'chatCompletions',
    route: 'v1/chat/completions',
    methods: ['POST'],
    docs: {
      summary: 'Chat completion (OpenAI shape); `stream: true` answers with Server-Sent Events.',
      tags: ['models'],
      body: chatCompletionRequestSchema,
      responses: { 200: chatCompletionSchema },
      streams: true,
    },
    async handle(request) {
      return answerResponse(await createChatCompletion(await readJson(request, chatCompletionRequestSchema), callContext(request)));
    },
  }),
];

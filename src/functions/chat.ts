import { defineFunction } from '../http/handler.js';
import { answerResponse, callContext } from '../http/model-answer.js';
import { chatCompletionRequestSchema, chatCompletionSchema } from '../schemas/chat.js';
import { createChatCompletion } from '../services/chat.js';

export const chatFunctions = [
  defineFunction({
    name: 'chatCompletions',
    route: 'v1/chat/completions',
    methods: ['POST'],
    body: chatCompletionRequestSchema,
    docs: {
      summary: 'Chat completion (OpenAI shape); `stream: true` answers with Server-Sent Events.',
      tags: ['models'],
      responses: { 200: chatCompletionSchema },
      streams: true,
    },
    async handle(input) {
      return answerResponse(await createChatCompletion(input.body, callContext(input)));
    },
  }),
];

import { defineFunction } from '../http/handler.js';
import { completionRequestSchema, completionSchema } from '../schemas/completions.js';
import { createCompletion } from '../services/completions.js';
import { answerResponse, callContext } from '../http/model-answer.js';

export const completionsFunctions = [
  defineFunction({
    name: 'completions',
    route: 'v1/completions',
    methods: ['POST'],
    body: completionRequestSchema,
    docs: {
      summary: 'Prompt continuation (OpenAI completions shape); `stream: true` answers with Server-Sent Events.',
      tags: ['models'],
      responses: { 200: completionSchema },
      streams: true,
    },
    async handle(input) {
      return answerResponse(await createCompletion(input.body, callContext(input)));
    },
  }),
];

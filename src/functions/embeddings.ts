import { defineFunction, json } from '../http/handler.js';
import { embeddingsRequestSchema, embeddingsResponseSchema } from '../schemas/embeddings.js';
import { createEmbeddings } from '../services/embeddings.js';
import { backendHeaders, callContext } from '../http/model-answer.js';

export const embeddingsFunctions = [
  defineFunction({
    name: 'embeddings',
    route: 'v1/embeddings',
    methods: ['POST'],
    body: embeddingsRequestSchema,
    docs: {
      summary: 'Text → vectors, one string or a batch (OpenAI embeddings shape).',
      tags: ['models'],
      responses: { 200: embeddingsResponseSchema },
    },
    async handle(input) {
      const context = callContext(input);
      const answer = await createEmbeddings(input.body, context);
      return json(200, answer, backendHeaders(context.trace?.backend));
    },
  }),
];

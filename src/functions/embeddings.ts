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
    async handle({ body, request }) {
      const context = callContext(request);
      const answer = await createEmbeddings(body, context);
      return json(200, answer, backendHeaders(context.trace?.backend));
    },
  }),
];

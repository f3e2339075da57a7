import { defineFunction, json } from '../http/handler.js';
import { readJson } from '../http/request.js';
import { embeddingsRequestSchema, embeddingsResponseSchema } from '../schemas/embeddings.js';
import { createEmbeddings } from '../services/embeddings.js';
import { backendHeaders, callContext } from '../http/model-answer.js';

export const embeddingsFunctions = [
  defineFunction({
    name: 'embeddings',
    route: 'v1/embeddings',
    methods: ['POST'],
    docs: {
      summary: 'Text → vectors, one string or a batch (OpenAI embeddings shape).',
      tags: ['models'],
      body: embeddingsRequestSchema,
      responses: { 200: embeddingsResponseSchema },
    },
    async handle(request) {
      const context = callContext(request);
      const answer = await createEmbeddings(await readJson(request, embeddingsRequestSchema), context);
      return json(200, answer, backendHeaders(context.trace?.backend));
    },
  }),
];

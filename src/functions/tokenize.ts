import { defineFunction, json } from '../http/handler.js';
import {
  detokenizeRequestSchema,
  detokenizeResponseSchema,
  tokenizeRequestSchema,
  tokenizeResponseSchema,
} from '../schemas/tokenize.js';
import { countMessages, detokenize, tokenizeTextJson } from '../services/tokenize.js';

export const tokenizeFunctions = [
  defineFunction({
    name: 'tokenize',
    route: 'v1/tokenize',
    methods: ['POST'],
    body: tokenizeRequestSchema,
    docs: {
      summary: 'Count and encode text, or count the prompt tokens of a chat messages array.',
      tags: ['tokens'],
      responses: { 200: tokenizeResponseSchema },
    },
    async handle({ body }) {
      if ('messages' in body) return json(200, await countMessages(body));
      // Sent as the bytes built for it (large id arrays are written as text where they are made, not re-serialised).
      return { status: 200, headers: { 'content-type': 'application/json' }, body: await tokenizeTextJson(body) };
    },
  }),
  defineFunction({
    name: 'detokenize',
    route: 'v1/detokenize',
    methods: ['POST'],
    body: detokenizeRequestSchema,
    docs: {
      summary: 'Decode token ids back to text.',
      tags: ['tokens'],
      responses: { 200: detokenizeResponseSchema },
    },
    async handle({ body }) {
      return json(200, detokenize(body));
    },
  }),
];

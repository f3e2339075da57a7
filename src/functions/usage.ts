import * as z from 'zod/mini';
import { defineFunction, json } from '../http/handler.js';
import { principalOf } from '../http/principal.js';
import { usageOf } from '../quotas/quota.js';

const windowSchema = z.object({
  limit: z
    .nullable(z.int())
    .register(z.globalRegistry, { description: 'Tokens allowed in the window; null when that limit is off.' }),
  used: z.int(),
  remaining: z.nullable(z.int()),
  resets_at: z.int().register(z.globalRegistry, { description: 'Unix seconds when the window starts afresh.' }),
});
export const usageResponseSchema = z.object({
  object: z.literal('usage'),
  user: z.string(),
  minute: windowSchema,
  day: windowSchema,
});

export const usageFunctions = [
  defineFunction({
    name: 'usage',
    route: 'v1/usage',
    methods: ['GET'],
    docs: {
      summary: "The caller's token quota: limits, used and remaining this minute and today.",
      tags: ['service'],
      responses: { 200: usageResponseSchema },
    },
    async handle({ request }) {
      return json(200, await usageOf(principalOf(request)?.id ?? null));
    },
  }),
];

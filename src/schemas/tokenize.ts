import * as z from 'zod/mini';
import { ACCEPTED_ENCODING_NAMES } from '../tokens/encoding-names.js';

export const encodingNameSchema = z
  .enum(ACCEPTED_ENCODING_NAMES)
  .register(z.globalRegistry, { description: 'Encoding by name; `gpt2` is an alias of `r50k_base`.' });

const modelSchema = z.string().check(z.minLength(1), z.maxLength(256)).register(z.globalRegistry, {
  description: 'Model or deployment name; picks its encoding (e.g. gpt-4o → o200k_base).',
});

const allowedSpecialSchema = z
  .union([z.literal('all'), z.array(z.string().check(z.maxLength(64))).check(z.maxLength(64))])
  .register(z.globalRegistry, {
    description: 'Special tokens (e.g. `<|endoftext|>`) to encode as such; by default they are ordinary text.',
  });

// Message parts as the chat API accepts them; only text counts toward the prompt here.
const countMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']),
  content: z.optional(
    z.union([z.string(), z.array(z.object({ type: z.string(), text: z.optional(z.string()) })), z.null()]),
  ),
  name: z.optional(z.string().check(z.maxLength(64))),
});

export const tokenizeTextRequestSchema = z.object({
  text: z.string().register(z.globalRegistry, { description: 'Text to encode.' }),
  encoding: z.optional(encodingNameSchema),
  model: z.optional(modelSchema),
  allowed_special: z.optional(allowedSpecialSchema),
  count_only: z
    .optional(z.boolean())
    .register(z.globalRegistry, { description: 'Return only the count, not the token ids.' }),
});

export const tokenizeMessagesRequestSchema = z.object({
  messages: z
    .array(countMessageSchema)
    .check(z.minLength(1))
    .register(z.globalRegistry, { description: 'A chat `messages` array; its prompt-token count is returned.' }),
  encoding: z.optional(encodingNameSchema),
  model: z.optional(modelSchema),
});

export const tokenizeRequestSchema = z.union([tokenizeTextRequestSchema, tokenizeMessagesRequestSchema]);

export const tokenizeResponseSchema = z.object({
  encoding: encodingNameSchema,
  count: z.int(),
  tokens: z.optional(z.array(z.int())),
});

export const detokenizeRequestSchema = z.object({
  tokens: z.array(z.int().check(z.nonnegative())).register(z.globalRegistry, { description: 'Token ids to decode.' }),
  encoding: z.optional(encodingNameSchema),
  model: z.optional(modelSchema),
});

export const detokenizeResponseSchema = z.object({ encoding: encodingNameSchema, text: z.string() });

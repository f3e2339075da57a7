import { z } from 'zod';
import { ACCEPTED_ENCODING_NAMES } from '../tokens/encoding-names.js';

export const encodingNameSchema = z
  .enum(ACCEPTED_ENCODING_NAMES)
  .describe('Encoding by name; `gpt2` is an alias of `r50k_base`.');

const modelSchema = z
  .string()
  .min(1)
  .max(256)
  .describe('Model or deployment name; picks its encoding (e.g. gpt-4o → o200k_base).');

const allowedSpecialSchema = z
  .union([z.literal('all'), z.array(z.string().max(64)).max(64)])
  .describe('Special tokens (e.g. `<|endoftext|>`) to encode as such; by default they are ordinary text.');

// Message parts as the chat API accepts them; only text counts toward the prompt here.
const countMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool', 'developer']),
  content: z
    .union([z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() })), z.null()])
    .optional(),
  name: z.string().max(64).optional(),
});

export const tokenizeTextRequestSchema = z.object({
  text: z.string().describe('Text to encode.'),
  encoding: encodingNameSchema.optional(),
  model: modelSchema.optional(),
  allowed_special: allowedSpecialSchema.optional(),
  count_only: z.boolean().optional().describe('Return only the count, not the token ids.'),
});

export const tokenizeMessagesRequestSchema = z.object({
  messages: z.array(countMessageSchema).min(1).describe('A chat `messages` array; its prompt-token count is returned.'),
  encoding: encodingNameSchema.optional(),
  model: modelSchema.optional(),
});

export const tokenizeRequestSchema = z.union([tokenizeTextRequestSchema, tokenizeMessagesRequestSchema]);

export const tokenizeResponseSchema = z.object({
  encoding: encodingNameSchema,
  count: z.number().int(),
  tokens: z.array(z.number().int()).optional(),
});

export const detokenizeRequestSchema = z.object({
  tokens: z.array(z.number().int().nonnegative()).describe('Token ids to decode.'),
  encoding: encodingNameSchema.optional(),
  model: modelSchema.optional(),
});

export const detokenizeResponseSchema = z.object({ encoding: encodingNameSchema, text: z.string() });

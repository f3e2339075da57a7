import { z } from 'zod';
import { inputItemSchema, metadataSchema } from './responses.js';
import {
  maxTokensSchema,
  modelSchema,
  penaltySchema,
  stopSchema,
  temperatureSchema,
  topPSchema,
  usageSchema,
  userSchema,
} from './common.js';

/** Longest message or system prompt stored (characters): a turn's pair must fit one 4 MB transaction. */
export const MAX_STORED_CHARS = 400_000;

export const createConversationSchema = z.object({
  system: z
    .string()
    .max(MAX_STORED_CHARS)
    .optional()
    .describe('System prompt kept with the conversation and sent with every turn.'),
  model: modelSchema.optional(),
  title: z.string().max(256).optional(),
  items: z.array(inputItemSchema).max(20).optional().describe('Initial items (OpenAI Conversations API), up to 20.'),
  metadata: metadataSchema.nullable().optional(),
});

export const updateConversationSchema = z.object({ metadata: metadataSchema });
export const deletedConversationSchema = z.object({
  id: z.string(),
  object: z.literal('conversation.deleted'),
  deleted: z.literal(true),
});
export const addItemsSchema = z.object({ items: z.array(inputItemSchema).min(1).max(20) });

export const conversationSchema = z.object({
  id: z.string(),
  object: z.literal('conversation'),
  created_at: z.number().int(),
  title: z.string().nullable(),
  model: z.string(),
  system: z.string().nullable(),
  message_count: z.number().int(),
  metadata: z.record(z.string(), z.string()).describe('Up to 16 string pairs (OpenAI conversation metadata).'),
});

export const storedMessageSchema = z.object({
  id: z.string(),
  object: z.literal('conversation.message'),
  seq: z.number().int(),
  role: z
    .enum(['user', 'assistant', 'system', 'developer', 'tool'])
    .describe('`tool` rows and assistant rows holding function calls come from the Responses API.'),
  content: z.string(),
  tokens: z.number().int(),
  created_at: z.number().int(),
});

const cursor = z.string().regex(/^msg_\d{1,10}$/, 'a message id such as msg_12');
export const listMessagesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: cursor.optional(),
  before: cursor.optional(),
});

export const listConversationsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: z.string().max(64).optional(),
});

const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });
export const conversationListSchema = listOf(conversationSchema);
export const messageListSchema = listOf(storedMessageSchema);

export const postMessageSchema = z.object({
  content: z.string().min(1).max(MAX_STORED_CHARS).describe('The new user message; history is added by the service.'),
  stream: z.boolean().optional(),
  max_tokens: maxTokensSchema.optional(),
  temperature: temperatureSchema.optional(),
  top_p: topPSchema.optional(),
  stop: stopSchema.optional(),
  presence_penalty: penaltySchema.optional(),
  frequency_penalty: penaltySchema.optional(),
  seed: z.number().int().optional(),
  user: userSchema.optional(),
});
export type PostMessage = z.infer<typeof postMessageSchema>;

export const turnResponseSchema = z.object({
  id: z.string().describe('Id of the stored assistant message.'),
  object: z.literal('conversation.turn'),
  conversation_id: z.string(),
  user_message_id: z.string(),
  message: z.object({ role: z.literal('assistant'), content: z.string() }),
  finish_reason: z.string().nullable(),
  usage: usageSchema.optional(),
  history_messages: z
    .number()
    .int()
    .describe('How many stored messages were sent with this turn (after trimming to the context window).'),
});

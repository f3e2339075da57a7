import * as z from 'zod/mini';
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
    .optional(z.string().check(z.maxLength(MAX_STORED_CHARS)))
    .register(z.globalRegistry, { description: 'System prompt kept with the conversation and sent with every turn.' }),
  model: z.optional(modelSchema),
  title: z.optional(z.string().check(z.maxLength(256))),
  items: z
    .optional(z.array(inputItemSchema).check(z.maxLength(20)))
    .register(z.globalRegistry, { description: 'Initial items (OpenAI Conversations API), up to 20.' }),
  metadata: z.optional(z.nullable(metadataSchema)),
});

export const updateConversationSchema = z.object({ metadata: metadataSchema });
export const deletedConversationSchema = z.object({
  id: z.string(),
  object: z.literal('conversation.deleted'),
  deleted: z.literal(true),
});
export const addItemsSchema = z.object({ items: z.array(inputItemSchema).check(z.minLength(1), z.maxLength(20)) });

export const conversationSchema = z.object({
  id: z.string(),
  object: z.literal('conversation'),
  created_at: z.int(),
  title: z.nullable(z.string()),
  model: z.string(),
  system: z.nullable(z.string()),
  message_count: z.int(),
  metadata: z
    .record(z.string(), z.string())
    .register(z.globalRegistry, { description: 'Up to 16 string pairs (OpenAI conversation metadata).' }),
});

export const storedMessageSchema = z.object({
  id: z.string(),
  object: z.literal('conversation.message'),
  seq: z.int(),
  role: z.enum(['user', 'assistant', 'system', 'developer', 'tool']).register(z.globalRegistry, {
    description: '`tool` rows and assistant rows holding function calls come from the Responses API.',
  }),
  content: z.string(),
  tokens: z.int(),
  created_at: z.int(),
});

const cursor = z.string().check(z.regex(/^msg_\d{1,10}$/, 'a message id such as msg_12'));
export const listMessagesQuerySchema = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  order: z._default(z.enum(['asc', 'desc']), 'desc'),
  after: z.optional(cursor),
  before: z.optional(cursor),
});

export const listConversationsQuerySchema = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  after: z.optional(z.string().check(z.maxLength(64))),
});

const listOf = <T extends z.core.$ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.nullable(z.string()),
    last_id: z.nullable(z.string()),
    has_more: z.boolean(),
  });
export const conversationListSchema = listOf(conversationSchema);
export const messageListSchema = listOf(storedMessageSchema);

export const postMessageSchema = z.object({
  content: z
    .string()
    .check(z.minLength(1), z.maxLength(MAX_STORED_CHARS))
    .register(z.globalRegistry, { description: 'The new user message; history is added by the service.' }),
  stream: z.optional(z.boolean()),
  max_tokens: z.optional(maxTokensSchema),
  temperature: z.optional(temperatureSchema),
  top_p: z.optional(topPSchema),
  stop: z.optional(stopSchema),
  presence_penalty: z.optional(penaltySchema),
  frequency_penalty: z.optional(penaltySchema),
  seed: z.optional(z.int()),
  user: z.optional(userSchema),
});
export type PostMessage = z.infer<typeof postMessageSchema>;

export const turnResponseSchema = z.object({
  id: z.string().register(z.globalRegistry, { description: 'Id of the stored assistant message.' }),
  object: z.literal('conversation.turn'),
  conversation_id: z.string(),
  user_message_id: z.string(),
  message: z.object({ role: z.literal('assistant'), content: z.string() }),
  finish_reason: z.nullable(z.string()),
  usage: z.optional(usageSchema),
  history_messages: z.int().register(z.globalRegistry, {
    description: 'How many stored messages were sent with this turn (after trimming to the context window).',
  }),
});

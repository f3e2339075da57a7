/**
 * OpenAI's Responses API request and response shapes (https://platform.openai.com/docs/api-reference/responses),
 * the part this service offers on top of chat completions. Unknown fields (`include`, `reasoning`, …) are accepted
 * and dropped.
 */
import * as z from 'zod/mini';
import { maxTokensSchema, modelSchema, temperatureSchema, topPSchema, userSchema } from './common.js';

/** Longest input (characters of its JSON) a stored response keeps: a Table entity holds at most 1 MiB. */
export const MAX_STORED_INPUT_CHARS = 300_000;

const text = z.string().check(z.maxLength(1_000_000));
const inputText = z.object({ type: z.literal('input_text'), text });
const outputText = z.object({ type: z.literal('output_text'), text, annotations: z.optional(z.array(z.unknown())) });
const refusal = z.object({ type: z.literal('refusal'), refusal: text });
const inputImage = z.object({
  type: z.literal('input_image'),
  image_url: z
    .string()
    .check(z.minLength(1), z.maxLength(1_000_000))
    .register(z.globalRegistry, { description: 'An https: or data: URL (file ids are not supported).' }),
  detail: z.optional(z.enum(['auto', 'low', 'high'])),
});
export const contentPartSchema = z.discriminatedUnion('type', [inputText, outputText, refusal, inputImage]);
export type ContentPart = z.infer<typeof contentPartSchema>;

const itemId = z.optional(z.string().check(z.maxLength(128)));
const itemStatus = z.optional(z.enum(['in_progress', 'completed', 'incomplete']));
export const messageItemSchema = z.object({
  type: z.optional(z.literal('message')),
  id: itemId,
  status: itemStatus,
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: z.union([text, z.array(contentPartSchema).check(z.maxLength(256))]),
});
export const functionCallItemSchema = z.object({
  type: z.literal('function_call'),
  id: itemId,
  status: itemStatus,
  call_id: z.string().check(z.minLength(1), z.maxLength(256)),
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  arguments: text,
});
export const functionCallOutputItemSchema = z.object({
  type: z.literal('function_call_output'),
  id: itemId,
  status: itemStatus,
  call_id: z.string().check(z.minLength(1), z.maxLength(256)),
  output: z.union([text, z.array(contentPartSchema).check(z.maxLength(256))]),
});
export const inputItemSchema = z.union([messageItemSchema, functionCallItemSchema, functionCallOutputItemSchema]);
export type InputItem = z.infer<typeof inputItemSchema>;
/** An item of an earlier stored response of the caller, by id (the AI SDK sends these for stored turns). */
export const itemReferenceSchema = z.object({
  type: z.literal('item_reference'),
  id: z.string().check(z.minLength(1), z.maxLength(128)),
});
export type ItemReference = z.infer<typeof itemReferenceSchema>;

export const functionToolSchema = z.object({
  type: z
    .literal('function')
    .register(z.globalRegistry, { description: 'Only function tools are offered (no built-in tools).' }),
  name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)),
  description: z.optional(z.nullable(z.string().check(z.maxLength(100_000)))),
  parameters: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  strict: z.optional(z.nullable(z.boolean())),
});
export type FunctionTool = z.infer<typeof functionToolSchema>;

export const textFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    name: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,64}$/)),
    schema: z.record(z.string(), z.unknown()),
    description: z.optional(z.string().check(z.maxLength(100_000))),
    strict: z.optional(z.nullable(z.boolean())),
  }),
]);
export type TextFormat = z.infer<typeof textFormatSchema>;

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), name: z.string().check(z.minLength(1), z.maxLength(64)) }),
]);

const metadataSchema = z
  .record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(512)))
  .check(z.refine((m) => Object.keys(m).length <= 16, 'at most 16 keys'))
  .register(z.globalRegistry, { description: 'Up to 16 string pairs kept with the object.' });

export const createResponseSchema = z.object({
  model: z.optional(modelSchema),
  input: z.union([text, z.array(z.union([inputItemSchema, itemReferenceSchema])).check(z.maxLength(1000))]),
  instructions: z.optional(z.nullable(text)).register(z.globalRegistry, {
    description: 'A system message for this response only (not carried by previous_response_id).',
  }),
  previous_response_id: z.optional(z.nullable(z.string().check(z.maxLength(128)))),
  conversation: z.optional(
    z.nullable(z.union([z.string().check(z.maxLength(128)), z.object({ id: z.string().check(z.maxLength(128)) })])),
  ),
  store: z.optional(z.nullable(z.boolean())),
  stream: z.optional(z.nullable(z.boolean())),
  background: z
    .optional(z.nullable(z.boolean()))
    .register(z.globalRegistry, { description: 'Not offered: `true` is a 400.' }),
  max_output_tokens: z.optional(z.nullable(maxTokensSchema)),
  temperature: z.optional(z.nullable(temperatureSchema)),
  top_p: z.optional(z.nullable(topPSchema)),
  tools: z.optional(z.array(functionToolSchema).check(z.maxLength(128))),
  tool_choice: z.optional(toolChoiceSchema),
  parallel_tool_calls: z.optional(z.nullable(z.boolean())),
  text: z.optional(z.nullable(z.looseObject({ format: z.optional(textFormatSchema) }))),
  metadata: z.optional(z.nullable(metadataSchema)),
  user: z.optional(userSchema),
  truncation: z.optional(z.nullable(z.enum(['auto', 'disabled']))),
});
export type CreateResponse = z.infer<typeof createResponseSchema>;

export const outputMessageSchema = z.object({
  id: z.string(),
  type: z.literal('message'),
  status: z.enum(['in_progress', 'completed', 'incomplete']),
  role: z.literal('assistant'),
  content: z.array(z.union([z.extend(outputText, { annotations: z.array(z.unknown()) }), refusal])),
});
export const outputFunctionCallSchema = z.object({
  id: z.string(),
  type: z.literal('function_call'),
  status: z.enum(['in_progress', 'completed', 'incomplete']),
  call_id: z.string(),
  name: z.string(),
  arguments: z.string(),
});
export const outputItemSchema = z.union([outputMessageSchema, outputFunctionCallSchema]);
export type OutputItem = z.infer<typeof outputItemSchema>;

export const responseUsageSchema = z.object({
  input_tokens: z.int(),
  input_tokens_details: z.object({ cached_tokens: z.int() }),
  output_tokens: z.int(),
  output_tokens_details: z.object({ reasoning_tokens: z.int() }),
  total_tokens: z.int(),
});

export const responseObjectSchema = z.object({
  id: z.string(),
  object: z.literal('response'),
  created_at: z.int(),
  status: z.enum(['completed', 'incomplete', 'in_progress', 'failed']),
  background: z.boolean(),
  error: z.nullable(z.object({ code: z.string(), message: z.string() })),
  incomplete_details: z.nullable(z.object({ reason: z.string() })),
  instructions: z.nullable(z.string()),
  max_output_tokens: z.nullable(z.int()),
  model: z.string(),
  output: z.array(outputItemSchema),
  parallel_tool_calls: z.boolean(),
  previous_response_id: z.nullable(z.string()),
  conversation: z.nullable(z.object({ id: z.string() })),
  reasoning: z.object({ effort: z.null(), summary: z.null() }),
  store: z.boolean(),
  temperature: z.nullable(z.number()),
  text: z.object({ format: textFormatSchema }),
  tool_choice: toolChoiceSchema,
  tools: z.array(functionToolSchema),
  top_p: z.nullable(z.number()),
  truncation: z.enum(['auto', 'disabled']),
  usage: z.nullable(responseUsageSchema),
  user: z.nullable(z.string()),
  metadata: z.record(z.string(), z.string()),
});
export type ResponseObject = z.infer<typeof responseObjectSchema>;

export const deletedResponseSchema = z.object({
  id: z.string(),
  object: z.literal('response.deleted'),
  deleted: z.literal(true),
});

/** Stored items as OpenAI lists them: each with an id and a type. */
export const storedItemSchema = z.union([
  z.extend(messageItemSchema, {
    type: z.literal('message'),
    id: z.string(),
    status: z.enum(['in_progress', 'completed', 'incomplete']),
    content: z.array(contentPartSchema),
  }),
  z.extend(functionCallItemSchema, { id: z.string(), status: z.enum(['in_progress', 'completed', 'incomplete']) }),
  z.extend(functionCallOutputItemSchema, {
    id: z.string(),
    status: z.optional(z.enum(['in_progress', 'completed', 'incomplete'])),
  }),
]);
export type StoredItem = z.infer<typeof storedItemSchema>;

export const itemListSchema = z.object({
  object: z.literal('list'),
  data: z.array(storedItemSchema),
  first_id: z.nullable(z.string()),
  last_id: z.nullable(z.string()),
  has_more: z.boolean(),
});

export const listItemsQuerySchema = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 20),
  order: z._default(z.enum(['asc', 'desc']), 'desc'),
  after: z.optional(z.string().check(z.maxLength(128))),
  before: z.optional(z.string().check(z.maxLength(128))),
});
export { metadataSchema };

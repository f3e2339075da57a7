/**
 * `POST /v1/responses` on top of chat completions: rebuild the history (a `previous_response_id` chain or a
 * conversation), call the upstream with instructions + history + input, answer as a response object or the
 * Responses event stream, and store the turn. A failed call or a broken stream stores nothing.
 */
import { settings } from '../config.js';
import { replyReserve } from '../conversations/turn.js';
import { badRequest, notFound, unauthorized } from '../errors.js';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatMessage } from '../schemas/chat.js';
import type { Usage } from '../schemas/common.js';
import {
  MAX_STORED_INPUT_CHARS,
  type CreateResponse,
  type InputItem,
  type ItemReference,
  type OutputItem,
  type ResponseObject,
  type StoredItem,
} from '../schemas/responses.js';
import { callModel, encodingForDeployment, type CallContext, type ModelAnswer } from '../services/model-call.js';
import type { ConversationMeta, ConversationStore } from '../storage/conversation-store.js';
import { TableConversationStore } from '../storage/table-conversation-store.js';
import { resolveDeployment } from '../upstream/index.js';
import { countMessageTokens, REPLY_PRIMING_TOKENS } from '../tokens/chat.js';
import { contextWindowForModel } from '../tokens/models.js';
import { checkRowSizes, itemRow, rowItem } from './conversation-items.js';
import {
  chatMessages,
  inputItems,
  itemTokens,
  newResponseId,
  outputFromCompletion,
  parseItemId,
  responseItemIds,
} from './items.js';
import { MAX_CHAIN_ENTRIES, ResponseStore, type ChainEntry, type StoredResponse } from './store.js';
import { responseEvents } from './stream.js';

let responses: ResponseStore | undefined;
let conversations: ConversationStore | undefined;
export const responseStore = () => (responses ??= new ResponseStore());
export const conversationStore = () => (conversations ??= new TableConversationStore());

/** The largest context window a chain could be replayed into: a row remembers ancestors up to it. */
function largestWindow(): number {
  const s = settings();
  return (
    s.CONVERSATION_CONTEXT_TOKENS ??
    Math.max(...s.AZURE_OPENAI_CHAT_DEPLOYMENTS.map((d) => contextWindowForModel(d)), 8_192)
  );
}

const contextTooLong = (window: number, param: string) =>
  badRequest(
    `The input and history do not fit the model's ${window}-token context window with room for the reply; use truncation: "auto" or a shorter input.`,
    param,
    'context_length_exceeded',
  );

function usageOf(usage: Usage): ResponseObject['usage'] {
  const output = usage.completion_tokens ?? usage.total_tokens - usage.prompt_tokens;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: usage.total_tokens,
  };
}

function chatRequest(request: CreateResponse, messages: ChatMessage[]): Omit<ChatCompletionRequest, 'model'> {
  const body: Omit<ChatCompletionRequest, 'model'> = { messages };
  if (request.max_output_tokens != null) body.max_completion_tokens = request.max_output_tokens;
  if (request.temperature != null) body.temperature = request.temperature;
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.user) body.user = request.user;
  if (request.tools?.length) {
    body.tools = request.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
        ...(t.strict != null ? { strict: t.strict } : {}),
      },
    }));
    if (request.parallel_tool_calls != null) body.parallel_tool_calls = request.parallel_tool_calls;
  }
  if (request.tool_choice)
    body.tool_choice =
      typeof request.tool_choice === 'string'
        ? request.tool_choice
        : { type: 'function', function: { name: request.tool_choice.name } };
  const format = request.text?.format;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  if (format?.type === 'json_schema') {
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: format.name,
        schema: format.schema,
        ...(format.strict != null ? { strict: format.strict } : {}),
        ...(format.description ? { description: format.description } : {}),
      },
    };
  }
  return body;
}

interface History {
  items: StoredItem[];
  tokens: number;
  /** For a chain: the new row's ancestors and the chain's total tokens before it. */
  chain: ChainEntry[];
  chainTokens: number;
  conversation?: ConversationMeta;
  /** The conversation's own system prompt (set through `/v1/conversations` `system`), sent first. */
  system?: string;
}

/** The previous responses that fit `budget`, newest first from the pointer rows, read in one batch. */
async function chainHistory(
  userId: string,
  previousId: string,
  budget: number,
  truncate: boolean,
  window: number,
): Promise<History> {
  const previous = await responseStore().get(userId, previousId);
  const candidates: ChainEntry[] = [{ id: previous.id, tokens: previous.ownTokens }, ...previous.chain];
  if (!truncate && (previous.chainTokens > budget || previous.chain.length >= MAX_CHAIN_ENTRIES))
    throw contextTooLong(window, 'previous_response_id');
  const picked: ChainEntry[] = [];
  let used = 0;
  for (const entry of candidates) {
    if (used + entry.tokens > budget) break;
    used += entry.tokens;
    picked.push(entry);
  }
  const older =
    picked.length > 1
      ? await responseStore().many(
          userId,
          picked.slice(1).map((e) => e.id),
        )
      : new Map<string, StoredResponse>();
  older.set(previous.id, previous);
  const items: StoredItem[] = [];
  for (const entry of [...picked].reverse()) {
    const response = older.get(entry.id);
    // A deleted ancestor leaves a gap: the rest of the chain still answers.
    if (response) items.push(...response.input, ...response.body.output);
  }
  // What the new row remembers: its ancestors up to the largest window, and at most MAX_CHAIN_ENTRIES of them.
  const chain: ChainEntry[] = [];
  let kept = 0;
  const cap = largestWindow();
  for (const entry of candidates) {
    if (kept + entry.tokens > cap || chain.length >= MAX_CHAIN_ENTRIES) break;
    kept += entry.tokens;
    chain.push(entry);
  }
  return { items, tokens: used, chain, chainTokens: previous.chainTokens };
}

async function conversationHistory(
  userId: string,
  conversationId: string,
  budget: number,
  truncate: boolean,
  window: number,
): Promise<History> {
  const meta = await conversationStore().get(userId, conversationId);
  if (meta.systemTokens > budget) throw contextTooLong(window, 'conversation');
  const rows = await conversationStore().newestWithin(meta, budget - meta.systemTokens);
  if (!truncate && rows.length < meta.message_count) throw contextTooLong(window, 'conversation');
  const items = rows.flatMap((row) => rowItem(row) ?? []);
  const tokens = meta.systemTokens + rows.reduce((s, r) => s + r.tokens, 0);
  return {
    items,
    tokens,
    chain: [],
    chainTokens: 0,
    conversation: meta,
    ...(meta.system ? { system: meta.system } : {}),
  };
}

/** Replaces each `item_reference` with the caller's stored item it names (one read per response referenced). */
async function resolveReferences(userId: string, input: (InputItem | ItemReference)[]): Promise<InputItem[]> {
  const wanted = new Map<string, ReturnType<typeof parseItemId>>();
  input.forEach((item, i) => {
    if (item.type !== 'item_reference') return;
    const where = parseItemId(item.id);
    if (!where || !userId) throw notFound(`No stored item '${item.id.slice(0, 64)}' (input[${i}]).`, 'item_not_found');
    wanted.set(item.id, where);
  });
  if (wanted.size === 0) return input as InputItem[];
  const responseIds = [...new Set([...wanted.values()].map((w) => w!.responseId))];
  const found = await responseStore().many(userId, responseIds);
  return input.map((item, i) => {
    if (item.type !== 'item_reference') return item;
    const where = wanted.get(item.id)!;
    const response = found.get(where.responseId);
    const stored =
      response && (where.side === 'input' ? response.input : (response.body.output as StoredItem[]))[where.index];
    if (!stored || stored.id !== item.id)
      throw notFound(`No stored item '${item.id}' (input[${i}]).`, 'item_not_found');
    const { id: _id, ...rest } = stored;
    return rest;
  });
}

/** `context.caller`: the signed-in caller's principal id (null without one: then nothing can be stored or read). */
export async function createResponse(
  request: CreateResponse,
  context: CallContext,
): Promise<ModelAnswer<ResponseObject>> {
  if (request.background)
    throw badRequest(
      'Background mode is not offered by this service; leave `background` unset or false.',
      'background',
      'unsupported_value',
    );
  const conversationId =
    typeof request.conversation === 'string' ? request.conversation : (request.conversation?.id ?? undefined);
  const previousId = request.previous_response_id ?? undefined;
  if (conversationId && previousId)
    throw badRequest("'previous_response_id' and 'conversation' cannot be used together.", 'previous_response_id');
  const store = request.store ?? true;
  if ((store || conversationId || previousId) && !context.caller) {
    throw unauthorized(
      settings().TRUST_PRINCIPAL_HEADERS
        ? 'Sign-in required to store responses: no x-ms-client-principal-id header (or send store: false).'
        : 'Stored responses need a signed-in caller and this deployment does not trust principal headers (TRUST_PRINCIPAL_HEADERS is off); send store: false.',
    );
  }
  const userId = context.caller ?? '';
  const deployment = resolveDeployment('chat', request.model);
  const encoding = encodingForDeployment(deployment);
  const id = newResponseId();
  const createdAt = Math.floor(Date.now() / 1000);
  const truncate = request.truncation === 'auto';

  const given = typeof request.input === 'string' ? request.input : await resolveReferences(userId, request.input);
  let input = inputItems(given, (type, i) => responseItemIds(id)(type, i, 'input'));
  if (store && JSON.stringify(input).length > MAX_STORED_INPUT_CHARS) {
    throw badRequest(
      `The input is too large to store (over ${MAX_STORED_INPUT_CHARS} characters); send store: false or a shorter input.`,
      'input',
      'input_too_large',
    );
  }
  const inputTokens = input.map((item) => itemTokens(encoding, item));
  const instructionTokens = request.instructions
    ? countMessageTokens(encoding, { role: 'system', content: request.instructions })
    : 0;
  const window = settings().CONVERSATION_CONTEXT_TOKENS ?? contextWindowForModel(deployment);
  const ownInputTokens = inputTokens.reduce((a, b) => a + b, 0);
  const budget =
    window -
    replyReserve(window, request.max_output_tokens ?? undefined) -
    instructionTokens -
    ownInputTokens -
    REPLY_PRIMING_TOKENS;
  if (budget < 0) throw contextTooLong(window, 'input');

  const history: History = previousId
    ? await chainHistory(userId, previousId, budget, truncate, window)
    : conversationId
      ? await conversationHistory(userId, conversationId, budget, truncate, window)
      : { items: [], tokens: 0, chain: [], chainTokens: 0 };

  // In a conversation, items take the conversation's ids (msg_<seq>): one store, the same ids in both views.
  const meta = history.conversation;
  let outputId = (type: StoredItem['type'], index: number) => responseItemIds(id)(type, index, 'output');
  if (meta) {
    input = input.map((item, i) => ({ ...item, id: `msg_${meta.message_count + 1 + i}` }));
    outputId = (_type, index) => `msg_${meta.message_count + input.length + 1 + index}`;
  }
  const inputRows = input.map((item, i) => itemRow(item, inputTokens[i]!));
  if (meta) checkRowSizes(inputRows, 'input');

  const messages: ChatMessage[] = [
    ...(history.system ? [{ role: 'system' as const, content: history.system }] : []),
    ...(request.instructions ? [{ role: 'system' as const, content: request.instructions }] : []),
    ...chatMessages([...history.items, ...input]),
  ];
  const body = chatRequest(request, messages);
  const promptTokens = instructionTokens + history.tokens + ownInputTokens + REPLY_PRIMING_TOKENS;

  const skeleton: ResponseObject = {
    id,
    object: 'response',
    created_at: createdAt,
    status: 'in_progress',
    background: false,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: deployment,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: previousId ?? null,
    conversation: conversationId ? { id: conversationId } : null,
    reasoning: { effort: null, summary: null },
    store,
    temperature: request.temperature ?? null,
    text: { format: request.text?.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: truncate ? 'auto' : 'disabled',
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };

  /** Stores the finished turn: the conversation's rows first (the 409 guard), then the response row. */
  async function finish(output: OutputItem[], usage: Usage, finishReason: string | null): Promise<ResponseObject> {
    const incomplete =
      finishReason === 'length' ? 'max_output_tokens' : finishReason === 'content_filter' ? 'content_filter' : null;
    const final: ResponseObject = {
      ...skeleton,
      status: incomplete ? 'incomplete' : 'completed',
      incomplete_details: incomplete ? { reason: incomplete } : null,
      output,
      usage: usageOf(usage),
    };
    const outputTokens = output.map((item) => itemTokens(encoding, item as StoredItem));
    if (meta) {
      const rows = [...inputRows, ...output.map((item, i) => itemRow(item as StoredItem, outputTokens[i]!))];
      checkRowSizes(rows, 'input');
      await conversationStore().appendRows(meta, rows);
    }
    if (store) {
      const ownTokens = ownInputTokens + outputTokens.reduce((a, b) => a + b, 0);
      await responseStore().put(userId, {
        id,
        body: final,
        input,
        ownTokens,
        chainTokens: history.chainTokens + ownTokens,
        chain: history.chain,
      });
    }
    return final;
  }

  const answer = await callModel<ChatCompletion, ChatCompletionChunk>(
    {
      capability: 'chat',
      deployment,
      body: { ...body, stream: request.stream === true },
      promptTokens: () => promptTokens,
      answerLimit: { field: 'max_completion_tokens', value: request.max_output_tokens ?? undefined },
      choices: 1,
      includeUsage: true,
      textOf: (choice) => choice.delta.content ?? '',
      parse: true,
      relay: (chunks, accounting) =>
        responseEvents(chunks, {
          skeleton,
          messageId: (index) => outputId('message', index),
          callId: (index) => outputId('function_call', index),
          promptTokens,
          countTokens: (text) => encoding.count(text),
          finish: ({ output, usage, finishReason }) => finish(output, usage, finishReason),
          accounting,
        }),
    },
    context,
  );
  if (answer.stream) return answer;
  const completion = answer.body as ChatCompletion;
  const choice = completion.choices[0];
  const output = outputFromCompletion(choice?.message, outputId);
  const usage = completion.usage ?? { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens };
  return { stream: false, backend: answer.backend, body: await finish(output, usage, choice?.finish_reason ?? null) };
}

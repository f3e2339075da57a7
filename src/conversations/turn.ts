/**
 * One conversation turn: read the newest history that fits the model's context window, call the model with
 * system prompt + history + the new message, then store the user message and the reply together.
 * A failed call or a broken stream stores nothing, so history never holds half a turn.
 */
import { settings } from '../config.js';
import { badRequest } from '../http/errors.js';
import type { SseEvent } from '../http/sse.js';
import { resolveDeployment, upstream } from '../openai/index.js';
import type { ChatMessage } from '../schemas/chat.js';
import type { PostMessage } from '../schemas/conversations.js';
import { encodingForDeployment } from '../services/chat.js';
import { relayStream, startStream } from '../services/model-stream.js';
import { metered, meteredStream, startMetered } from '../quotas/metered.js';
import { DEFAULT_ANSWER_RESERVE } from '../quotas/quota.js';
import { countChatTokensAsync } from '../tokens/async.js';
import { countMessageTokens, REPLY_PRIMING_TOKENS } from '../tokens/chat.js';
import { contextWindowForModel } from '../tokens/models.js';
import { ConversationStore, type ConversationMeta, type StoredMessage } from './store.js';

export type TurnResult = { stream: false; body: Record<string, unknown> } | { stream: true; events: AsyncGenerator<SseEvent, void, undefined> };

/** Tokens kept free for the reply when the request does not say `max_tokens`. */
export function replyReserve(window: number, maxTokens?: number): number {
  return maxTokens ?? Math.min(4096, Math.floor(window / 4));
}

export async function runTurn(store: ConversationStore, userId: string, conversationId: string, body: PostMessage): Promise<TurnResult> {
  const meta = await store.get(userId, conversationId);
  const deployment = resolveDeployment('chat', meta.model);
  const encoding = encodingForDeployment(deployment);
  const userTokens = (await countChatTokensAsync(encoding.name, [{ role: 'user', content: body.content }])) - REPLY_PRIMING_TOKENS;
  const window = settings().CONVERSATION_CONTEXT_TOKENS ?? contextWindowForModel(deployment);
  const budget = window - replyReserve(window, body.max_tokens) - meta.systemTokens - userTokens - REPLY_PRIMING_TOKENS;
  if (budget < 0) throw badRequest(`The message and system prompt do not fit the model's ${window}-token context window with room for the reply.`, 'content', 'context_length_exceeded');

  const history = await store.newestWithin(meta, budget);
  const messages: ChatMessage[] = [
    ...(meta.system ? [{ role: 'system' as const, content: meta.system }] : []),
    ...history.map((m) => ({ role: m.role, content: m.content })),
    { role: 'user', content: body.content },
  ];
  const { content: _content, stream, ...knobs } = body;
  const request = { ...knobs, messages };
  const store_ = (reply: string) =>
    store.appendTurn(meta, { content: body.content, tokens: userTokens }, { content: reply, tokens: countMessageTokens(encoding, { role: 'assistant', content: reply }) });

  const promptTokens = meta.systemTokens + history.reduce((s, m) => s + m.tokens, 0) + userTokens + REPLY_PRIMING_TOKENS;
  const estimate = promptTokens + (body.max_tokens ?? DEFAULT_ANSWER_RESERVE);

  if (!stream) {
    const completion = await metered(userId, estimate, () => upstream().chatCompletion(request, { deployment }), (c) => c.usage?.total_tokens);
    const choice = completion.choices[0];
    const reply = choice?.message.content ?? '';
    const [userMessage, assistantMessage] = await store_(reply);
    return { stream: false, body: turnBody(meta, userMessage, assistantMessage, choice?.finish_reason ?? null, completion.usage, history.length) };
  }

  const { reservation, started: chunks } = await startMetered(userId, estimate, () =>
    startStream(upstream().streamChatCompletion({ ...request, stream_options: { include_usage: true } }, { deployment })),
  );
  return {
    stream: true,
    events: relayStream(chunks, {
      includeUsage: true,
      promptTokens,
      textOf: (choice) => choice.delta.content ?? '',
      countTokens: (text) => encoding.count(text),
      // Stores only when the whole answer arrived; a failure to store (e.g. 409) becomes the stream's error event.
      accounting: meteredStream(reservation, promptTokens, { onComplete: async (_usage, texts) => void (await store_(texts[0] ?? '')) }),
    }),
  };
}

function turnBody(meta: ConversationMeta, user: StoredMessage, reply: StoredMessage, finishReason: string | null, usage: unknown, historyMessages: number) {
  return {
    id: reply.id,
    object: 'conversation.turn',
    conversation_id: meta.id,
    user_message_id: user.id,
    message: { role: 'assistant', content: reply.content },
    finish_reason: finishReason,
    usage,
    history_messages: historyMessages,
  };
}

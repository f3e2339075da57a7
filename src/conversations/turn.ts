/**
 * One conversation turn: read the newest history that fits the model's context window, call the model with
 * system prompt + history + the new message, then store the user message and the reply together.
 * A failed call or a broken stream stores nothing, so history never holds half a turn.
 */
import { settings } from '../config.js';
import { badRequest } from '../errors.js';
import { resolveDeployment } from '../upstream/index.js';
import type { ChatCompletion, ChatCompletionChunk, ChatMessage } from '../schemas/chat.js';
import type { PostMessage } from '../schemas/conversations.js';
import { callModel, encodingForDeployment, type CallContext, type ModelAnswer } from '../services/model-call.js';
import type { ConversationMeta, ConversationStore, StoredMessage } from '../storage/conversation-store.js';
import { rowsToChatMessages } from '../responses/conversation-items.js';
import { countChatTokensAsync } from '../tokens/async.js';
import { countMessageTokens, REPLY_PRIMING_TOKENS } from '../tokens/chat.js';
import { contextWindowForModel } from '../tokens/models.js';

/** What a whole (non-streamed) turn answers. */
export interface TurnBody {
  id: string;
  object: 'conversation.turn';
  conversation_id: string;
  user_message_id: string;
  message: { role: 'assistant'; content: string };
  finish_reason: string | null;
  usage: ChatCompletion['usage'];
  history_messages: number;
}

/** Tokens kept free for the reply when the request does not say `max_tokens`. */
export function replyReserve(window: number, maxTokens?: number): number {
  return maxTokens ?? Math.min(4096, Math.floor(window / 4));
}

export async function runTurn(
  store: ConversationStore,
  conversationId: string,
  body: PostMessage,
  context: CallContext & { caller: string },
): Promise<ModelAnswer<TurnBody>> {
  const meta = await store.get(context.caller, conversationId);
  const deployment = resolveDeployment('chat', meta.model);
  const encoding = encodingForDeployment(deployment);
  // Counted off the main thread when large (a 400K-character message must not stall other requests).
  const userTokens =
    (await countChatTokensAsync(encoding.name, [{ role: 'user', content: body.content }])) - REPLY_PRIMING_TOKENS;
  const window = settings().CONVERSATION_CONTEXT_TOKENS ?? contextWindowForModel(deployment);
  const budget = window - replyReserve(window, body.max_tokens) - meta.systemTokens - userTokens - REPLY_PRIMING_TOKENS;
  if (budget < 0) {
    throw badRequest(
      `The message and system prompt do not fit the model's ${window}-token context window with room for the reply.`,
      'content',
      'context_length_exceeded',
    );
  }

  const history = await store.newestWithin(meta, budget);
  const messages: ChatMessage[] = [
    ...(meta.system ? [{ role: 'system' as const, content: meta.system }] : []),
    ...rowsToChatMessages(history),
    { role: 'user', content: body.content },
  ];
  const { content: _content, ...knobs } = body;
  const storeTurn = (reply: string) =>
    store.appendTurn(
      meta,
      { content: body.content, tokens: userTokens },
      { content: reply, tokens: countMessageTokens(encoding, { role: 'assistant', content: reply }) },
    );
  const promptTokens =
    meta.systemTokens + history.reduce((s, m) => s + m.tokens, 0) + userTokens + REPLY_PRIMING_TOKENS;

  const answer = await callModel<ChatCompletion, ChatCompletionChunk>(
    {
      capability: 'chat',
      deployment,
      body: { ...knobs, messages },
      promptTokens: () => promptTokens,
      answerLimit: body.max_tokens
        ? { field: 'max_tokens', value: body.max_tokens }
        : { field: 'max_completion_tokens', value: undefined },
      choices: 1,
      includeUsage: true,
      textOf: (choice) => choice.delta.content ?? '',
      parse: true,
      // Stores only when the whole answer arrived; a failure to store (e.g. 409) becomes the stream's error event.
      onStreamComplete: async (texts) => void (await storeTurn(texts[0] ?? '')),
    },
    context,
  );
  if (answer.stream) return answer;
  const completion = answer.body as ChatCompletion;
  const choice = completion.choices[0];
  const [userMessage, assistantMessage] = await storeTurn(choice?.message.content ?? '');
  return {
    stream: false,
    backend: answer.backend,
    body: turnBody(
      meta,
      userMessage,
      assistantMessage,
      choice?.finish_reason ?? null,
      completion.usage,
      history.length,
    ),
  };
}

function turnBody(
  meta: ConversationMeta,
  user: StoredMessage,
  reply: StoredMessage,
  finishReason: string | null,
  usage: ChatCompletion['usage'],
  historyMessages: number,
): TurnBody {
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

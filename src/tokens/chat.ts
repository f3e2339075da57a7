import type { Encoding } from './encodings.js';

export interface ChatMessageForCount {
  role: string;
  content?: string | null | readonly { type: string; text?: string }[];
  name?: string;
}

/**
 * Prompt tokens of a chat request, after OpenAI's cookbook formula for the gpt-3.5/gpt-4/gpt-4o families:
 * every message costs 3 tokens of framing (+1 with a `name`), and every reply is primed with 3 more.
 */
export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const REPLY_PRIMING_TOKENS = 3;

export function messageContentText(content: ChatMessageForCount['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? (part.text ?? '') : '')).join('');
}

/** Tokens one message adds to a prompt (its framing included). Stored with each conversation message. */
export function countMessageTokens(encoding: Encoding, message: ChatMessageForCount): number {
  let tokens = TOKENS_PER_MESSAGE + encoding.count(message.role) + encoding.count(messageContentText(message.content));
  if (message.name) tokens += TOKENS_PER_NAME + encoding.count(message.name);
  return tokens;
}

export function countChatTokens(encoding: Encoding, messages: readonly ChatMessageForCount[]): number {
  let tokens = REPLY_PRIMING_TOKENS;
  for (const message of messages) tokens += countMessageTokens(encoding, message);
  return tokens;
}

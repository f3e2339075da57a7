/**
 * What the conversation routes and the turn need from a store, whatever keeps the rows. The Table Storage
 * implementation is `TableConversationStore`; every implementation passes test/storage-contract.test.ts.
 */
import type { z } from 'zod';
import type { conversationSchema, storedMessageSchema } from '../schemas/conversations.js';

export type Conversation = z.infer<typeof conversationSchema>;
export type StoredMessage = z.infer<typeof storedMessageSchema>;

/** A conversation as read for a turn: what the caller sees, plus what the store needs to write after it. */
export interface ConversationMeta extends Conversation {
  ownerKey: string;
  systemTokens: number;
  /** The version the next write is conditional on (a turn or a delete that lost a race is refused). */
  etag: string;
}

export interface NewConversation {
  model: string;
  system?: string | null;
  title?: string | null;
  systemTokens: number;
}

export interface ConversationPage {
  data: Conversation[];
  hasMore: boolean;
}

export interface ConversationStore {
  /** Throws 403 `conversation_limit_reached` once the user holds the configured maximum. */
  create(userId: string, input: NewConversation): Promise<Conversation>;
  /** The conversation if it exists and belongs to this user; another user's id is indistinguishable from none. */
  get(userId: string, id: string): Promise<ConversationMeta>;
  /** Newest first; the cost follows `limit`, not how many conversations the user has. */
  list(userId: string, page: { limit: number; after?: string }): Promise<ConversationPage>;
  /** Messages with seq in [from, to], oldest first. */
  range(conversationId: string, from: number, to: number): Promise<StoredMessage[]>;
  /** The newest messages whose tokens fit in `budget`, oldest first, reading no more than the window needs. */
  newestWithin(meta: ConversationMeta, budget: number): Promise<StoredMessage[]>;
  /**
   * Stores a turn's user message and reply together, conditional on `meta.etag`: all or nothing. A turn that
   * lost to another turn is a 409; one that lost to a delete is a 404. Nothing is stored for either.
   */
  appendTurn(
    meta: ConversationMeta,
    user: { content: string; tokens: number },
    assistant: { content: string; tokens: number },
  ): Promise<[StoredMessage, StoredMessage]>;
  /**
   * Removes the conversation and all its messages (404 if it is not the user's); a turn racing it either lands
   * before or gets a 404. A delete that failed part way is finished by the next one.
   */
  delete(userId: string, id: string): Promise<void>;
}

export const CONVERSATION_ID = /^conv_[A-Za-z0-9_-]{24}$/;
export const messageId = (seq: number) => `msg_${seq}`;
export function parseMessageId(id: string): number | undefined {
  const m = /^msg_(\d{1,10})$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

export function publicConversation(meta: ConversationMeta): Conversation {
  const { ownerKey: _o, systemTokens: _s, etag: _e, ...conversation } = meta;
  return conversation;
}

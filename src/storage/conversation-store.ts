/**
 * What the conversation routes and the turn need from a store, whatever keeps the rows. The Table Storage
 * implementation is `TableConversationStore`; every implementation passes test/storage-contract.test.ts.
 */
import type * as z from 'zod/mini';
import type { conversationSchema, storedMessageSchema } from '../schemas/conversations.js';

export type Conversation = z.infer<typeof conversationSchema>;
export type StoredMessage = z.infer<typeof storedMessageSchema> & {
  /** The Responses API item a row holds when role + content cannot say it all (function calls, images …). */
  item?: Record<string, unknown>;
  /** A row whose item was deleted (kept, emptied, so seqs stay dense). */
  deleted?: boolean;
};

/** A row to append: a plain message, or any Responses API item (then `item` is kept beside role + text). */
export interface NewRow {
  role: StoredMessage['role'];
  content: string;
  tokens: number;
  item?: Record<string, unknown>;
}

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
  metadata?: Record<string, string>;
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
   * Appends rows (a Responses turn's input and output items, or items posted to the conversation) with the
   * metadata update, conditional on `meta.etag` like `appendTurn`: all or nothing, 409/404 on a lost race.
   */
  appendRows(meta: ConversationMeta, rows: NewRow[]): Promise<StoredMessage[]>;
  /** Replaces the conversation's metadata (OpenAI's up to 16 string pairs). */
  updateMetadata(meta: ConversationMeta, metadata: Record<string, string>): Promise<ConversationMeta>;
  /** Empties one row and marks it deleted: seqs stay dense, so pages and the window stay range queries. */
  deleteRow(meta: ConversationMeta, seq: number): Promise<void>;
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

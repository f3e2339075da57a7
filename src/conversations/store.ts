/**
 * Conversations in Azure Table Storage.
 *
 * Keys: a conversation's rows share one partition, `c_<conversation id>`, so that a turn's user message,
 * assistant reply and the conversation's metadata update commit in one entity-group transaction:
 *   - RowKey `meta`: owner, model, system prompt, title, and `seq`, the number of stored messages.
 *     Every turn updates it under its ETag, so two concurrent turns cannot both commit (the loser gets 409).
 *   - RowKey `m_<seq, 10 digits>`: message `seq` (1, 2, 3 … dense, no gaps): role, content, token count.
 * Because seq is dense and known from `meta`, "the newest N messages" and every page of the list are
 * RowKey range queries with computed bounds: no scan of the whole history, whatever its length.
 * The caller's list of conversations is an index row per conversation in `u_<sha256(user id)>`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { settings } from '../config.js';
import { conflict, notFound } from '../http/errors.js';
import { statusOf, storeError, tableClient } from './table.js';
import { packText, unpackText } from './text-chunks.js';

export const CONVERSATION_ID = /^conv_[A-Za-z0-9_-]{24}$/;
const META = 'meta';

export interface Conversation {
  id: string;
  object: 'conversation';
  created_at: number;
  title: string | null;
  model: string;
  system: string | null;
  message_count: number;
}

export interface StoredMessage {
  id: string;
  object: 'conversation.message';
  seq: number;
  role: 'user' | 'assistant';
  content: string;
  tokens: number;
  created_at: number;
}

export interface ConversationMeta extends Conversation {
  ownerKey: string;
  systemTokens: number;
  etag: string;
}

export const messageId = (seq: number) => `msg_${seq}`;
export function parseMessageId(id: string): number | undefined {
  const m = /^msg_(\d{1,10})$/.exec(id);
  return m ? Number(m[1]) : undefined;
}
const rowKey = (seq: number) => `m_${String(seq).padStart(10, '0')}`;
const partition = (conversationId: string) => `c_${conversationId}`;
export const ownerKey = (userId: string) => createHash('sha256').update(userId).digest('hex').slice(0, 40);
const userPartition = (userId: string) => `u_${ownerKey(userId)}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Counts storage operations, for the benchmark's "table operations per turn". */
export const storeStats = { operations: 0 };

function toMessage(entity: Record<string, unknown>): StoredMessage {
  const seq = Number(String(entity.rowKey).slice(2));
  return {
    id: messageId(seq),
    object: 'conversation.message',
    seq,
    role: entity.role as 'user' | 'assistant',
    content: unpackText('content', entity),
    tokens: Number(entity.tokens),
    created_at: Number(entity.createdAt),
  };
}

function toMeta(id: string, entity: Record<string, unknown>): ConversationMeta {
  return {
    id,
    object: 'conversation',
    created_at: Number(entity.createdAt),
    title: (entity.title as string | undefined) || null,
    model: String(entity.model),
    system: Number(entity.systemParts ?? 0) > 0 ? unpackText('system', entity) : null,
    message_count: Number(entity.seq ?? 0),
    ownerKey: String(entity.owner),
    systemTokens: Number(entity.systemTokens ?? 0),
    etag: String(entity.etag),
  };
}

export function publicConversation(meta: ConversationMeta): Conversation {
  const { ownerKey: _o, systemTokens: _s, etag: _e, ...conversation } = meta;
  return conversation;
}

export class ConversationStore {
  constructor(private readonly tableName = settings().CONVERSATIONS_TABLE_NAME) {}

  private async table(): Promise<TableClient> {
    return tableClient(this.tableName);
  }

  private async run<T>(operation: (table: TableClient) => Promise<T>): Promise<T> {
    const table = await this.table();
    try {
      storeStats.operations++;
      return await operation(table);
    } catch (error) {
      throw storeError(error);
    }
  }

  async create(userId: string, input: { model: string; system?: string | null; title?: string | null; systemTokens: number }): Promise<Conversation> {
    const id = `conv_${randomBytes(18).toString('base64url')}`;
    const createdAt = nowSeconds();
    const meta = {
      partitionKey: partition(id),
      rowKey: META,
      owner: ownerKey(userId),
      model: input.model,
      title: input.title ?? '',
      createdAt,
      seq: 0,
      systemTokens: input.systemTokens,
      ...packText('system', input.system ?? ''),
    };
    await this.run((t) => t.createEntity(meta));
    // The index row makes it listable; written second, so a listed conversation always exists.
    await this.run((t) => t.createEntity({ partitionKey: userPartition(userId), rowKey: id, createdAt, title: input.title ?? '', model: input.model }));
    return { id, object: 'conversation', created_at: createdAt, title: input.title ?? null, model: input.model, system: input.system ?? null, message_count: 0 };
  }

  /** The conversation if it exists and belongs to this user; another user's id is indistinguishable from none. */
  async get(userId: string, id: string): Promise<ConversationMeta> {
    if (!CONVERSATION_ID.test(id)) throw notFound(`No conversation '${id.slice(0, 64)}'.`, 'conversation_not_found');
    const table = await this.table();
    let entity: Record<string, unknown>;
    try {
      storeStats.operations++;
      entity = await table.getEntity(partition(id), META);
    } catch (error) {
      if (statusOf(error) === 404) throw notFound(`No conversation '${id}'.`, 'conversation_not_found');
      throw storeError(error);
    }
    const meta = toMeta(id, entity);
    if (meta.ownerKey !== ownerKey(userId)) throw notFound(`No conversation '${id}'.`, 'conversation_not_found');
    return meta;
  }

  async list(userId: string): Promise<Conversation[]> {
    const pk = userPartition(userId);
    const ids = await this.run(async (t) => {
      const rows: string[] = [];
      const { odata } = await import('@azure/data-tables');
      for await (const row of t.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } })) rows.push(String(row.rowKey));
      return rows;
    });
    const metas = await Promise.all(ids.map((id) => this.get(userId, id).catch(() => undefined)));
    return metas
      .filter((m): m is ConversationMeta => m !== undefined)
      .map(publicConversation)
      .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1));
  }

  /** Messages with seq in [from, to], oldest first: one range query. */
  async range(conversationId: string, from: number, to: number): Promise<StoredMessage[]> {
    if (to < from) return [];
    const pk = partition(conversationId);
    const lo = rowKey(Math.max(1, from));
    const hi = rowKey(to);
    return this.run(async (t) => {
      const { odata } = await import('@azure/data-tables');
      const out: StoredMessage[] = [];
      for await (const row of t.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${lo} and RowKey le ${hi}` } })) {
        out.push(toMessage(row));
      }
      return out;
    });
  }

  /**
   * The newest messages whose tokens fit in `budget`, oldest first, read newest page first and stopping as
   * soon as the budget is full: the cost follows the window, never the whole history.
   */
  async newestWithin(meta: ConversationMeta, budget: number, pageSize = 32): Promise<StoredMessage[]> {
    const kept: StoredMessage[] = [];
    let used = 0;
    for (let to = meta.message_count; to >= 1; to -= pageSize) {
      const page = await this.range(meta.id, Math.max(1, to - pageSize + 1), to);
      for (let i = page.length - 1; i >= 0; i--) {
        const message = page[i]!;
        if (used + message.tokens > budget) return kept.reverse();
        used += message.tokens;
        kept.push(message);
      }
    }
    return kept.reverse();
  }

  /**
   * Stores a turn's user message and reply together with the metadata update, in one transaction
   * conditional on the metadata's ETag: all or nothing, and a concurrent turn that committed first makes
   * this one fail with 409 (nothing stored).
   */
  async appendTurn(meta: ConversationMeta, user: { content: string; tokens: number }, assistant: { content: string; tokens: number }): Promise<[StoredMessage, StoredMessage]> {
    const pk = partition(meta.id);
    const createdAt = nowSeconds();
    const userSeq = meta.message_count + 1;
    const replySeq = meta.message_count + 2;
    const actions: TransactionAction[] = [
      ['update', { partitionKey: pk, rowKey: META, seq: replySeq, updatedAt: createdAt }, 'Merge', { etag: meta.etag }],
      ['create', { partitionKey: pk, rowKey: rowKey(userSeq), role: 'user', tokens: user.tokens, createdAt, ...packText('content', user.content) }],
      ['create', { partitionKey: pk, rowKey: rowKey(replySeq), role: 'assistant', tokens: assistant.tokens, createdAt, ...packText('content', assistant.content) }],
    ];
    const table = await this.table();
    try {
      storeStats.operations++;
      await table.submitTransaction(actions);
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) {
        throw conflict('Another turn on this conversation was stored first; nothing was stored for this one. Retry.', 'conversation_busy');
      }
      throw storeError(error);
    }
    const message = (seq: number, role: 'user' | 'assistant', m: { content: string; tokens: number }): StoredMessage => ({
      id: messageId(seq),
      object: 'conversation.message',
      seq,
      role,
      content: m.content,
      tokens: m.tokens,
      created_at: createdAt,
    });
    return [message(userSeq, 'user', user), message(replySeq, 'assistant', assistant)];
  }

  /** Removes every row of the conversation (in batches of 100, metadata last) and its index row. */
  async delete(userId: string, meta: ConversationMeta): Promise<void> {
    const pk = partition(meta.id);
    const keys = await this.run(async (t) => {
      const { odata } = await import('@azure/data-tables');
      const rows: string[] = [];
      for await (const row of t.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${pk}`, select: ['RowKey'] } })) rows.push(String(row.rowKey));
      return rows;
    });
    const ordered = [...keys.filter((k) => k !== META), ...keys.filter((k) => k === META)];
    for (let i = 0; i < ordered.length; i += 100) {
      const batch: TransactionAction[] = ordered.slice(i, i + 100).map((rk) => ['delete', { partitionKey: pk, rowKey: rk }]);
      await this.run((t) => t.submitTransaction(batch));
    }
    await this.run(async (t) => {
      try {
        await t.deleteEntity(userPartition(userId), meta.id);
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    });
  }
}

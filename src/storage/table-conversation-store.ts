/**
 * Conversations in Azure Table Storage.
 *
 * Keys: a conversation's rows share one partition, `c_<conversation id>`, so that a turn's user message,
 * assistant reply and the conversation's metadata update commit in one entity-group transaction:
 *   - RowKey `meta`: owner, model, system prompt, title, and `seq`, the number of stored messages.
 *     Every turn updates it under its ETag, so two concurrent turns cannot both commit (the loser gets 409);
 *     a delete first marks it `deleted` under its ETag, so a turn racing a delete either lands first or fails.
 *   - RowKey `m_<seq, 10 digits>`: message `seq` (1, 2, 3 … dense, no gaps): role, content, token count.
 * Because seq is dense and known from `meta`, "the newest N messages" and every page of the list are
 * RowKey range queries with computed bounds: no scan of the whole history, whatever its length.
 * The caller's conversations are indexed in `u_<owner key>`: one row per conversation keyed newest first
 * (`i_<inverted created time>_<id>`), and a `count` row that caps how many a user keeps.
 */
import { randomBytes } from 'node:crypto';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { settings } from '../config.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../errors.js';
import {
  CONVERSATION_ID,
  messageId,
  publicConversation,
  type Conversation,
  type ConversationMeta,
  type ConversationPage,
  type ConversationStore,
  type NewConversation,
  type NewRow,
  type StoredMessage,
} from './conversation-store.js';
import { ownerKey } from './keys.js';
import {
  mapBounded,
  markStoreUp,
  partitionFilter,
  rowRangeFilter,
  statusOf,
  storeCall,
  storeError,
  tableClient,
} from './table.js';
import { packText, unpackText } from './text-chunks.js';

const META = 'meta';
const COUNT = 'count';
const rowKey = (seq: number) => `m_${String(seq).padStart(10, '0')}`;
const partition = (conversationId: string) => `c_${conversationId}`;
const userPartition = (userId: string) => `u_${ownerKey(userId)}`;
/** Newest first in RowKey order: seconds counted down from a far future. */
const indexKey = (createdAt: number, id: string) => `i_${String(9_999_999_999 - createdAt).padStart(10, '0')}_${id}`;
const nowSeconds = () => Math.floor(Date.now() / 1000);

function toMessage(entity: Record<string, unknown>): StoredMessage {
  const seq = Number(String(entity.rowKey).slice(2));
  const message: StoredMessage = {
    id: messageId(seq),
    object: 'conversation.message',
    seq,
    role: entity.role as StoredMessage['role'],
    content: unpackText('content', entity),
    tokens: Number(entity.tokens),
    created_at: Number(entity.createdAt),
  };
  if (Number(entity.itemParts ?? 0) > 0) {
    message.item = JSON.parse(unpackText('item', entity)) as Record<string, unknown>;
  }
  if (entity.deleted === true) message.deleted = true;
  return message;
}

const rowEntity = (pk: string, seq: number, row: NewRow, createdAt: number) => ({
  partitionKey: pk,
  rowKey: rowKey(seq),
  role: row.role,
  tokens: row.tokens,
  createdAt,
  ...packText('content', row.content),
  ...(row.item ? packText('item', JSON.stringify(row.item)) : {}),
});

function toMeta(id: string, entity: Record<string, unknown>): ConversationMeta {
  return {
    id,
    object: 'conversation',
    created_at: Number(entity.createdAt),
    title: (entity.title as string | undefined) || null,
    model: String(entity.model),
    system: Number(entity.systemParts ?? 0) > 0 ? unpackText('system', entity) : null,
    message_count: Number(entity.seq ?? 0),
    metadata: typeof entity.metadata === 'string' ? (JSON.parse(entity.metadata) as Record<string, string>) : {},
    ownerKey: String(entity.owner),
    systemTokens: Number(entity.systemTokens ?? 0),
    etag: String(entity.etag),
  };
}

const missing = (id: string) => notFound(`No conversation '${id.slice(0, 64)}'.`, 'conversation_not_found');

export class TableConversationStore implements ConversationStore {
  constructor(private readonly tableName = settings().CONVERSATIONS_TABLE_NAME) {}

  private async run<T>(operation: (table: TableClient) => Promise<T>): Promise<T> {
    const table = await tableClient(this.tableName);
    return storeCall(() => operation(table));
  }

  async create(userId: string, input: NewConversation): Promise<Conversation> {
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
      metadata: JSON.stringify(input.metadata ?? {}),
      ...packText('system', input.system ?? ''),
    };
    await this.run((t) => t.createEntity(meta));
    // The index row makes it listable; written second, so a listed conversation always exists. It commits with
    // the user's count, so the cap holds under concurrent creates.
    const index = { rowKey: indexKey(createdAt, id), createdAt, title: input.title ?? '', model: input.model };
    try {
      await this.updateCount(userId, +1, [index]);
    } catch (error) {
      await this.run((t) => t.deleteEntity(partition(id), META)).catch(() => undefined);
      throw error;
    }
    return {
      id,
      object: 'conversation',
      created_at: createdAt,
      title: input.title ?? null,
      model: input.model,
      system: input.system ?? null,
      message_count: 0,
      metadata: input.metadata ?? {},
    };
  }

  /** Moves the user's conversation count by `delta` under its ETag, in one transaction with index rows. */
  private async updateCount(
    userId: string,
    delta: 1 | -1,
    index: { rowKey: string; [key: string]: unknown }[],
  ): Promise<void> {
    const pk = userPartition(userId);
    const limit = settings().CONVERSATIONS_PER_USER;
    for (let attempt = 0; attempt < 20; attempt++) {
      let count = 0;
      let etag: string | undefined;
      const table = await tableClient(this.tableName);
      try {
        const row = await table.getEntity<{ conversations: number }>(pk, COUNT);
        count = Number(row.conversations);
        etag = row.etag;
      } catch (error) {
        if (statusOf(error) !== 404) throw storeError(error);
      }
      if (delta > 0 && count >= limit) {
        throw forbidden(
          `You have ${count} conversations, the most allowed (${limit}); delete some to start another.`,
          'conversation_limit_reached',
        );
      }
      const next = { partitionKey: pk, rowKey: COUNT, conversations: Math.max(0, count + delta) };
      const actions: TransactionAction[] = [
        etag ? ['update', next, 'Merge', { etag }] : ['create', next],
        ...index.map((row): TransactionAction =>
          delta > 0 ? ['create', { partitionKey: pk, ...row }] : ['delete', { partitionKey: pk, rowKey: row.rowKey }],
        ),
      ];
      try {
        await table.submitTransaction(actions);
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 409) continue; // another create or delete moved the count first
        // The index row is already gone: its removal moved the count then (so a retried delete moves it once).
        if (status === 404 && delta < 0 && index.length > 0) return;
        throw storeError(error);
      }
    }
    throw conflict('Too many concurrent changes to your conversations; retry.', 'conversation_busy');
  }

  async get(userId: string, id: string): Promise<ConversationMeta> {
    if (!CONVERSATION_ID.test(id)) throw missing(id);
    const entity = await this.metaRow(id);
    if (!entity || entity.deleted === true || String(entity.owner) !== ownerKey(userId)) throw missing(id);
    return toMeta(id, entity);
  }

  /** The `meta` row as stored, marked deleted or not; undefined when there is none. */
  private async metaRow(id: string): Promise<Record<string, unknown> | undefined> {
    const table = await tableClient(this.tableName);
    try {
      const entity = await table.getEntity<Record<string, unknown>>(partition(id), META);
      markStoreUp();
      return entity;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storeError(error);
    }
  }

  async list(userId: string, page: { limit: number; after?: string }): Promise<ConversationPage> {
    const pk = userPartition(userId);
    let from = 'i_';
    if (page.after !== undefined) {
      const after = await this.get(userId, page.after).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      });
      if (!after) throw badRequest(`'after' is not one of your conversations.`, 'after');
      from = `${indexKey(after.created_at, after.id)}\u0000`;
    }
    const filter = await rowRangeFilter(pk, from, 'i_~');
    const ids = await this.run(async (t) => {
      const pages = t
        .listEntities({ queryOptions: { filter, select: ['RowKey'] } })
        .byPage({ maxPageSize: page.limit + 1 });
      const rows: string[] = [];
      for await (const batch of pages) {
        for (const row of batch) rows.push(String(row.rowKey).slice(13));
        if (rows.length > page.limit) break;
      }
      return rows;
    });
    const shown = ids.slice(0, page.limit);
    // At most `limit` reads, a few at a time: the page's cost follows its size, not the user's history.
    const metas = await mapBounded(shown, 8, (id) => this.get(userId, id).catch(() => undefined));
    return {
      data: metas.filter((m): m is ConversationMeta => m !== undefined).map(publicConversation),
      hasMore: ids.length > page.limit,
    };
  }

  async range(conversationId: string, from: number, to: number): Promise<StoredMessage[]> {
    if (to < from) return [];
    const filter = await rowRangeFilter(partition(conversationId), rowKey(Math.max(1, from)), rowKey(to));
    return this.run(async (t) => {
      const out: StoredMessage[] = [];
      for await (const row of t.listEntities({ queryOptions: { filter } })) out.push(toMessage(row));
      return out;
    });
  }

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

  async appendTurn(
    meta: ConversationMeta,
    user: { content: string; tokens: number },
    assistant: { content: string; tokens: number },
  ): Promise<[StoredMessage, StoredMessage]> {
    // A turn is two rows appended under the same ETag guard as any other append.
    const [userMessage, reply] = await this.appendRows(meta, [
      { role: 'user', ...user },
      { role: 'assistant', ...assistant },
    ]);
    return [userMessage!, reply!];
  }

  async appendRows(meta: ConversationMeta, rows: NewRow[]): Promise<StoredMessage[]> {
    const pk = partition(meta.id);
    const createdAt = nowSeconds();
    const first = meta.message_count + 1;
    const actions: TransactionAction[] = [
      [
        'update',
        { partitionKey: pk, rowKey: META, seq: meta.message_count + rows.length, updatedAt: createdAt },
        'Merge',
        { etag: meta.etag },
      ],
      ...rows.map((row, i): TransactionAction => ['create', rowEntity(pk, first + i, row, createdAt)]),
    ];
    const table = await tableClient(this.tableName);
    try {
      await table.submitTransaction(actions);
      markStoreUp();
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409 || status === 404) {
        const now = await this.run((t) => t.getEntity(pk, META)).catch(() => undefined);
        if (!now || now.deleted === true) throw missing(meta.id);
        throw conflict(
          'Another turn on this conversation was stored first; nothing was stored for this one. Retry.',
          'conversation_busy',
        );
      }
      throw storeError(error);
    }
    return rows.map((row, i) => {
      const seq = first + i;
      const message: StoredMessage = {
        id: messageId(seq),
        object: 'conversation.message',
        seq,
        role: row.role,
        content: row.content,
        tokens: row.tokens,
        created_at: createdAt,
      };
      if (row.item) message.item = row.item;
      return message;
    });
  }

  async updateMetadata(meta: ConversationMeta, metadata: Record<string, string>): Promise<ConversationMeta> {
    const row = { partitionKey: partition(meta.id), rowKey: META, metadata: JSON.stringify(metadata) };
    await this.run((t) => t.updateEntity(row, 'Merge'));
    return { ...meta, metadata };
  }

  async deleteRow(meta: ConversationMeta, seq: number): Promise<void> {
    const emptied = {
      partitionKey: partition(meta.id),
      rowKey: rowKey(seq),
      role: 'user',
      tokens: 0,
      contentParts: 0,
      deleted: true,
      createdAt: nowSeconds(),
    };
    await this.run((t) => t.updateEntity(emptied, 'Replace'));
  }

  async delete(userId: string, id: string): Promise<void> {
    if (!CONVERSATION_ID.test(id)) throw missing(id);
    const pk = partition(id);
    // First mark it deleted under the ETag just read: from then on every turn's transaction fails (its ETag is
    // stale) and reads answer 404. A turn that committed first moved the ETag: read again and retry. One already
    // marked is finished rather than refused: a DELETE that failed part way (store error) can be retried.
    let meta: ConversationMeta;
    for (let attempt = 0; ; attempt++) {
      const entity = await this.metaRow(id);
      if (!entity || String(entity.owner) !== ownerKey(userId)) throw missing(id);
      meta = toMeta(id, entity);
      if (entity.deleted === true) break;
      try {
        const table = await tableClient(this.tableName);
        await table.updateEntity({ partitionKey: pk, rowKey: META, deleted: true }, 'Merge', { etag: meta.etag });
        break;
      } catch (error) {
        if (statusOf(error) !== 412 || attempt >= 10) throw storeError(error);
      }
    }
    const filter = await partitionFilter(pk);
    const keys = await this.run(async (t) => {
      const rows: string[] = [];
      for await (const row of t.listEntities({ queryOptions: { filter, select: ['RowKey'] } }))
        rows.push(String(row.rowKey));
      return rows;
    });
    const messages = keys.filter((k) => k !== META);
    for (let i = 0; i < messages.length; i += 100) await this.deleteRows(pk, messages.slice(i, i + 100));
    // The index row and the count go before the meta row: until the meta row is gone, a retry finds the
    // conversation and finishes; moving the count is tied to removing the index row, so it happens once.
    await this.updateCount(userId, -1, [{ rowKey: indexKey(meta.created_at, meta.id) }]);
    await this.deleteRows(pk, [META]);
  }

  /** Deletes rows of one partition; rows already gone (another DELETE of the same conversation) are skipped. */
  private async deleteRows(pk: string, rowKeys: string[]): Promise<void> {
    const table = await tableClient(this.tableName);
    try {
      const actions = rowKeys.map((rk): TransactionAction => ['delete', { partitionKey: pk, rowKey: rk }]);
      await table.submitTransaction(actions);
      markStoreUp();
    } catch (error) {
      if (statusOf(error) !== 404) throw storeError(error);
      for (const rk of rowKeys) {
        await table.deleteEntity(pk, rk).catch((e: unknown) => {
          if (statusOf(e) !== 404) throw storeError(e);
        });
      }
    }
  }
}

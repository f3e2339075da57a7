/**
 * Stored responses in Azure Table Storage, table `responses`.
 *
 * Keys: one partition per user, `u_<sha256(user id)>`, RowKey the response id — another user's id is simply not
 * in the caller's partition, so every verb answers 404 for it without a read of someone else's row.
 * A row holds the response object, its input items, and what a later `previous_response_id` needs to rebuild the
 * chain without walking it: `ownTokens` (its input + output items), `chainTokens` (the whole chain up to and
 * including it) and `chain`, the ids and token counts of its ancestors newest first, cut where they could no
 * longer fit any configured context window. A new turn reads its previous response (one point read) and then
 * only the ancestors that fit its budget (a few batched queries in parallel): the cost follows the window,
 * never the chain's length.
 */
import type { TableClient } from '@azure/data-tables';
import { notFound } from '../errors.js';
import { ownerKey } from '../storage/keys.js';
import { markStoreUp, statusOf, storeCall, storeError, tableClient } from '../storage/table.js';
import { packText, unpackText } from '../storage/text-chunks.js';
import type { ResponseObject, StoredItem } from '../schemas/responses.js';
import { RESPONSE_ID } from './items.js';

export const RESPONSES_TABLE = 'responses';
/** Ancestors a row remembers at most (each ~40 characters of the row's 1 MiB). */
export const MAX_CHAIN_ENTRIES = 2000;
/** Azure Tables allows at most 15 comparisons in one filter. */
const IDS_PER_QUERY = 14;

export interface ChainEntry {
  id: string;
  tokens: number;
}

export interface StoredResponse {
  id: string;
  body: ResponseObject;
  input: StoredItem[];
  ownTokens: number;
  chainTokens: number;
  /** Ancestors, newest first (the previous response first). */
  chain: ChainEntry[];
}

const partition = (userId: string) => `u_${ownerKey(userId)}`;

const encodeChain = (chain: ChainEntry[]) => chain.map((e) => `${e.id.slice(5)}:${e.tokens}`).join(',');
function decodeChain(text: string): ChainEntry[] {
  if (!text) return [];
  return text.split(',').map((pair) => {
    const [hex, tokens] = pair.split(':');
    return { id: `resp_${hex}`, tokens: Number(tokens) };
  });
}

function fromEntity(entity: Record<string, unknown>): StoredResponse {
  return {
    id: String(entity.rowKey),
    body: JSON.parse(unpackText('body', entity)) as ResponseObject,
    input: JSON.parse(unpackText('input', entity)) as StoredItem[],
    ownTokens: Number(entity.ownTokens ?? 0),
    chainTokens: Number(entity.chainTokens ?? 0),
    chain: decodeChain(unpackText('chain', entity)),
  };
}

const missing = (id: string) => notFound(`No response with id '${id.slice(0, 64)}'.`, 'response_not_found');

export class ResponseStore {
  constructor(private readonly tableName = RESPONSES_TABLE) {}

  private async run<T>(operation: (table: TableClient) => Promise<T>): Promise<T> {
    const table = await tableClient(this.tableName);
    return storeCall(() => operation(table));
  }

  async put(userId: string, response: StoredResponse): Promise<void> {
    await this.run((t) =>
      t.createEntity({
        partitionKey: partition(userId),
        rowKey: response.id,
        createdAt: response.body.created_at,
        ownTokens: response.ownTokens,
        chainTokens: response.chainTokens,
        ...packText('body', JSON.stringify(response.body)),
        ...packText('input', JSON.stringify(response.input)),
        ...packText('chain', encodeChain(response.chain)),
      }),
    );
  }

  /** The caller's response; any other id (someone else's, deleted, never stored) is the same 404. */
  async get(userId: string, id: string): Promise<StoredResponse> {
    if (!RESPONSE_ID.test(id)) throw missing(id);
    const table = await tableClient(this.tableName);
    try {
      const entity = await table.getEntity(partition(userId), id);
      markStoreUp();
      return fromEntity(entity);
    } catch (error) {
      if (statusOf(error) === 404) throw missing(id);
      throw storeError(error);
    }
  }

  /** Several of the caller's responses by id, in batched queries run together; absent ids are left out. */
  async many(userId: string, ids: string[]): Promise<Map<string, StoredResponse>> {
    const pk = partition(userId);
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) batches.push(ids.slice(i, i + IDS_PER_QUERY));
    const { odata } = await import('@azure/data-tables');
    const found = new Map<string, StoredResponse>();
    await Promise.all(
      batches.map((batch) =>
        this.run(async (t) => {
          // Ids are validated hex, so they are safe inside the filter; odata`` quotes the partition key.
          const rows = batch.map((id) => `RowKey eq '${id}'`).join(' or ');
          for await (const entity of t.listEntities({
            queryOptions: { filter: `${odata`PartitionKey eq ${pk}`} and (${rows})` },
          })) {
            const response = fromEntity(entity);
            found.set(response.id, response);
          }
        }),
      ),
    );
    return found;
  }

  async delete(userId: string, id: string): Promise<void> {
    if (!RESPONSE_ID.test(id)) throw missing(id);
    const table = await tableClient(this.tableName);
    try {
      await table.deleteEntity(partition(userId), id);
      markStoreUp();
    } catch (error) {
      if (statusOf(error) === 404) throw missing(id);
      throw storeError(error);
    }
  }
}

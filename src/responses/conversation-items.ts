/**
 * One store, two views: a conversation's rows are messages to `/messages` and items to `/items` and to the
 * Responses API. A plain text message is a row of role + content; any other item keeps its JSON beside them.
 */
import { badRequest } from '../errors.js';
import type { NewRow, StoredMessage } from '../storage/conversation-store.js';
import type { ChatMessage } from '../schemas/chat.js';
import type { InputItem, StoredItem } from '../schemas/responses.js';
import type { Encoding } from '../tokens/encodings.js';
import { chatMessages, inputItems, isPlainMessage, itemText, itemTokens } from './items.js';

/** The item a row holds (its id is the row's `msg_<seq>`), or undefined for a deleted row. */
export function rowItem(row: StoredMessage): StoredItem | undefined {
  if (row.deleted) return undefined;
  if (row.item) return { ...(row.item as StoredItem), id: row.id };
  const content =
    row.role === 'assistant'
      ? [{ type: 'output_text' as const, text: row.content, annotations: [] }]
      : [{ type: 'input_text' as const, text: row.content }];
  return { type: 'message', id: row.id, status: 'completed', role: row.role as 'user' | 'assistant', content };
}

export function itemRow(item: StoredItem, tokens: number): NewRow {
  const { role, text } = itemText(item);
  if (isPlainMessage(item)) return { role, content: text, tokens };
  const { id: _id, ...rest } = item;
  return { role, content: text, tokens, item: rest };
}

/** Stored rows as the chat messages a model call sends (deleted rows left out). */
export function rowsToChatMessages(rows: readonly StoredMessage[]): ChatMessage[] {
  return chatMessages(rows.flatMap((row) => rowItem(row) ?? []));
}

/** The `/messages` view of a row: role and text only. */
export function publicMessage(row: StoredMessage): StoredMessage {
  const { item: _item, deleted: _deleted, ...message } = row;
  return message;
}

/** A row is one entity (≤ 1 MiB, UTF-16) and an append is one transaction (≤ 4 MB): sizes are checked first. */
export const MAX_ROW_CHARS = 400_000;
export const MAX_APPEND_CHARS = 1_500_000;
export function checkRowSizes(rows: readonly NewRow[], param: string): void {
  let total = 0;
  for (const [i, row] of rows.entries()) {
    const chars = row.content.length + (row.item ? JSON.stringify(row.item).length : 0);
    if (chars > MAX_ROW_CHARS)
      throw badRequest(
        `Item ${i} is too large to store in a conversation (over ${MAX_ROW_CHARS} characters).`,
        `${param}[${i}]`,
        'item_too_large',
      );
    total += chars;
  }
  if (total > MAX_APPEND_CHARS)
    throw badRequest(
      `These items are too large to store together (over ${MAX_APPEND_CHARS} characters).`,
      param,
      'items_too_large',
    );
}

/** Items to append as rows, each with its token count (counted once, when stored), sizes checked. */
export function newRows(encoding: Encoding, items: InputItem[], param: string): NewRow[] {
  const rows = inputItems(items, () => '').map((item) => itemRow(item, itemTokens(encoding, item)));
  checkRowSizes(rows, param);
  return rows;
}

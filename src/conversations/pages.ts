import { badRequest } from '../errors.js';
import { parseMessageId } from '../storage/conversation-store.js';

/**
 * Which seq range a page of messages covers. Message seqs are dense (1 … count), so every page of either
 * order is one range query, and `has_more` follows from arithmetic.
 */
export function messagePage(
  count: number,
  query: { limit: number; order: 'asc' | 'desc'; after?: string; before?: string },
) {
  const cursor = (name: 'after' | 'before') => {
    const value = query[name];
    if (value === undefined) return undefined;
    const seq = parseMessageId(value);
    if (seq === undefined) throw badRequest(`'${name}' must be a message id such as msg_12.`, name);
    return seq;
  };
  const after = cursor('after');
  const before = cursor('before');
  const { limit } = query;
  let from: number;
  let to: number;
  if (query.order === 'desc') {
    if (after !== undefined) [from, to] = [after - limit, after - 1];
    else if (before !== undefined) [from, to] = [before + 1, before + limit];
    else [from, to] = [count - limit + 1, count];
  } else {
    if (after !== undefined) [from, to] = [after + 1, after + limit];
    else if (before !== undefined) [from, to] = [before - limit, before - 1];
    else [from, to] = [1, limit];
  }
  from = Math.max(1, from);
  to = Math.min(count, to);
  const hasMore =
    query.order === 'desc'
      ? after !== undefined || before === undefined
        ? from > 1
        : to < count
      : after !== undefined || before === undefined
        ? to < count
        : from > 1;
  return { from, to, hasMore: to >= from && hasMore };
}

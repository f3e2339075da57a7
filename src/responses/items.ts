/**
 * Responses API items ↔ chat completions messages. The upstream only speaks chat completions, so a response's
 * input and output items, and the history before them, are sent as chat messages; the answer comes back as items.
 */
import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatMessage } from '../schemas/chat.js';
import type { ContentPart, InputItem, OutputItem, StoredItem } from '../schemas/responses.js';
import { countMessageTokens } from '../tokens/chat.js';
import type { Encoding } from '../tokens/encodings.js';

export const RESPONSE_ID = /^resp_[0-9a-f]{32}$/;
/** Item ids made from their response's id, so an `item_reference` can be resolved with one point read. */
const ITEM_ID = /^(?:msg|fc|fco)_([0-9a-f]{32})_(i?)(\d{1,4})$/;

export const newResponseId = () => `resp_${randomBytes(16).toString('hex')}`;

/** Gives out item ids: `msg_<hex>_3` for output item 3 of response `resp_<hex>`, `…_i3` for input item 3. */
export type ItemIds = (type: StoredItem['type'], index: number, side: 'input' | 'output') => string;
export function responseItemIds(responseId: string): ItemIds {
  const hex = responseId.slice(5);
  const prefix = { message: 'msg', function_call: 'fc', function_call_output: 'fco' } as const;
  return (type, index, side) => `${prefix[type]}_${hex}_${side === 'input' ? 'i' : ''}${index}`;
}

/** The response an item id came from and where in it the item is, or undefined for any other id. */
export function parseItemId(id: string): { responseId: string; side: 'input' | 'output'; index: number } | undefined {
  const m = ITEM_ID.exec(id);
  return m ? { responseId: `resp_${m[1]}`, side: m[2] ? 'input' : 'output', index: Number(m[3]) } : undefined;
}

const textOf = (content: string | ContentPart[]): string =>
  typeof content === 'string'
    ? content
    : content
        .map((p) =>
          p.type === 'input_text' || p.type === 'output_text' ? p.text : p.type === 'refusal' ? p.refusal : '',
        )
        .join('');

/** An input item as stored and listed: typed, with an id, message content as parts. */
export function normalizeItem(item: InputItem, id: string): StoredItem {
  if (item.type === 'function_call') return { ...item, id, status: item.status ?? 'completed' };
  if (item.type === 'function_call_output') return { ...item, id, status: item.status ?? 'completed' };
  const content: ContentPart[] =
    typeof item.content === 'string'
      ? [
          item.role === 'assistant'
            ? { type: 'output_text', text: item.content, annotations: [] }
            : { type: 'input_text', text: item.content },
        ]
      : item.content;
  return { type: 'message', id, status: item.status ?? 'completed', role: item.role, content };
}

/** A request's `input` (a string is one user message) as stored items. */
export function inputItems(
  input: string | InputItem[],
  ids: (type: StoredItem['type'], index: number) => string,
): StoredItem[] {
  const items: InputItem[] = typeof input === 'string' ? [{ role: 'user', content: input }] : input;
  return items.map((item, i) => normalizeItem(item, ids(item.type ?? 'message', i)));
}

/** The text a conversation's message view shows for an item, and the role it shows it under. */
export function itemText(item: StoredItem): {
  role: 'user' | 'assistant' | 'system' | 'developer' | 'tool';
  text: string;
} {
  if (item.type === 'function_call') return { role: 'assistant', text: item.arguments };
  if (item.type === 'function_call_output') return { role: 'tool', text: textOf(item.output) };
  return { role: item.role, text: textOf(item.content) };
}

/** Whether a message item is plain text a conversation row holds as role + content (nothing else to keep). */
export function isPlainMessage(item: StoredItem): boolean {
  if (item.type !== 'message' || (item.role !== 'user' && item.role !== 'assistant')) return false;
  const want = item.role === 'user' ? 'input_text' : 'output_text';
  return item.content.length === 1 && item.content[0]!.type === want;
}

function userContent(parts: ContentPart[]): Extract<ChatMessage, { role: 'user' }>['content'] {
  if (parts.every((p) => p.type !== 'input_image')) return textOf(parts);
  type UserPart = Exclude<Extract<ChatMessage, { role: 'user' }>['content'], string>[number];
  return parts.map((p): UserPart =>
    p.type === 'input_image'
      ? { type: 'image_url', image_url: { url: p.image_url, ...(p.detail ? { detail: p.detail } : {}) } }
      : { type: 'text', text: textOf([p]) },
  );
}

/** Items in order → chat messages: consecutive function calls become one assistant message with `tool_calls`. */
export function chatMessages(items: readonly StoredItem[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const item of items) {
    if (item.type === 'function_call') {
      const call = {
        id: item.call_id,
        type: 'function' as const,
        function: { name: item.name, arguments: item.arguments },
      };
      const last = messages.at(-1);
      if (last?.role === 'assistant' && last.tool_calls) last.tool_calls.push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (item.type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: textOf(item.output) });
    } else if (item.role === 'user') {
      messages.push({ role: 'user', content: userContent(item.content) });
    } else {
      // Azure's 2024-10-21 API predates the `developer` role: it is sent as `system`.
      messages.push({ role: item.role === 'developer' ? 'system' : item.role, content: textOf(item.content) });
    }
  }
  return messages;
}

/** Tokens an item adds to a prompt, counted once when it is stored. */
export function itemTokens(encoding: Encoding, item: StoredItem): number {
  if (item.type === 'function_call')
    return countMessageTokens(encoding, { role: 'assistant', content: `${item.name}${item.arguments}` }) + 3;
  const { role, text } = itemText(item);
  return countMessageTokens(encoding, { role, content: text });
}

/** A whole chat answer's first choice as output items: the text (or refusal) as a message, then each tool call. */
export function outputFromCompletion(
  message: ChatCompletion['choices'][number]['message'] | undefined,
  ids: (type: StoredItem['type'], index: number) => string,
): OutputItem[] {
  const out: OutputItem[] = [];
  if (!message) return out;
  if (message.content || message.refusal) {
    const part = message.refusal
      ? { type: 'refusal' as const, refusal: message.refusal }
      : { type: 'output_text' as const, text: message.content ?? '', annotations: [] };
    out.push({
      id: ids('message', out.length),
      type: 'message',
      status: 'completed',
      role: 'assistant',
      content: [part],
    });
  }
  for (const call of message.tool_calls ?? []) {
    out.push({
      id: ids('function_call', out.length),
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    });
  }
  return out;
}

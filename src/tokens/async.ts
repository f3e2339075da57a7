/**
 * Token counting and encoding that never stalls the event loop: small inputs are handled inline (a worker round
 * trip costs more than they do), inputs of OFF_THREAD_CHARS or more (all texts of a call together) go to the
 * worker pool, so one caller's 4 MB prompt cannot freeze every other request on the instance.
 */
import { countChatTokens, type ChatMessageForCount } from './chat.js';
import { getEncoding, type AllowedSpecial, type EncodingName } from './encodings.js';
import { idsToJson } from './ids-json.js';
import { jobChars, OFF_THREAD_CHARS, runInPool } from './worker.js';

/** Tokens of `texts` together (e.g. a completions prompt array), each counted on its own. */
export async function countTokensAsync(
  encoding: EncodingName,
  texts: string | readonly string[],
  allowedSpecial?: AllowedSpecial,
): Promise<number> {
  const list = typeof texts === 'string' ? [texts] : [...texts];
  const job = { op: 'count', encoding, texts: list, allowedSpecial } as const;
  if (jobChars(job) >= OFF_THREAD_CHARS) return (await runInPool(job)).count;
  const engine = getEncoding(encoding);
  return list.reduce((n, text) => n + engine.count(text, allowedSpecial), 0);
}

/** Prompt tokens of a chat messages array (OpenAI's cookbook formula, src/tokens/chat.ts). */
export async function countChatTokensAsync(
  encoding: EncodingName,
  messages: readonly ChatMessageForCount[],
): Promise<number> {
  const job = {
    op: 'chat',
    encoding,
    messages: messages.map(({ role, content, name }) => ({ role, content, name })),
  } as const;
  if (jobChars(job) >= OFF_THREAD_CHARS) return (await runInPool(job)).count;
  return countChatTokens(getEncoding(encoding), messages);
}

/** The ids of `text` as JSON array text in UTF-8 (`[83,1609]`), with their count. */
export async function encodeToJsonAsync(
  encoding: EncodingName,
  text: string,
  allowedSpecial?: AllowedSpecial,
): Promise<{ count: number; json: Uint8Array }> {
  if (text.length >= OFF_THREAD_CHARS) {
    const result = await runInPool({ op: 'encode', encoding, text, allowedSpecial });
    return { count: result.count, json: result.json! };
  }
  const ids = getEncoding(encoding).encodeToArray(text, allowedSpecial);
  return { count: ids.length, json: idsToJson(ids) };
}

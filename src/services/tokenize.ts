import { badRequest } from '../http/errors.js';
import { countChatTokens, type ChatMessageForCount } from '../tokens/chat.js';
import { getEncoding, resolveEncodingName, type AllowedSpecial, type Encoding, type EncodingName } from '../tokens/encodings.js';
import { encodingNameForModel, KNOWN_MODEL_PREFIXES } from '../tokens/models.js';
import { OFF_THREAD_CHARS, tokenizeOffThread } from '../tokens/worker.js';

const DEFAULT_ENCODING: EncodingName = 'cl100k_base';

/** `encoding` wins over `model`; neither → cl100k_base. An unknown model is the caller's error. */
export function pickEncoding(encoding: string | undefined, model: string | undefined): Encoding {
  if (encoding) {
    const name = resolveEncodingName(encoding);
    if (!name) throw badRequest(`Unknown encoding '${encoding}'.`, 'encoding');
    return getEncoding(name);
  }
  if (model) {
    const name = encodingNameForModel(model);
    if (!name) throw badRequest(`No known encoding for model '${model}'. Known model families: ${KNOWN_MODEL_PREFIXES.join(', ')}.`, 'model', 'model_not_found');
    return getEncoding(name);
  }
  return getEncoding(DEFAULT_ENCODING);
}

export async function tokenizeText(input: { text: string; encoding?: string; model?: string; allowed_special?: AllowedSpecial; count_only?: boolean }) {
  const encoding = pickEncoding(input.encoding, input.model);
  // Large inputs go to a worker so that small requests on this instance keep answering meanwhile.
  if (input.text.length >= OFF_THREAD_CHARS) {
    const result = await tokenizeOffThread({ encoding: encoding.name, text: input.text, allowedSpecial: input.allowed_special, countOnly: input.count_only === true });
    return input.count_only ? { encoding: encoding.name, count: result.count } : { encoding: encoding.name, tokens: result.tokens!, count: result.count };
  }
  if (input.count_only) return { encoding: encoding.name, count: encoding.count(input.text, input.allowed_special) };
  const tokens = encoding.encode(input.text, input.allowed_special);
  return { encoding: encoding.name, tokens, count: tokens.length };
}

export function countMessages(input: { messages: readonly ChatMessageForCount[]; encoding?: string; model?: string }) {
  const encoding = pickEncoding(input.encoding, input.model);
  return { encoding: encoding.name, count: countChatTokens(encoding, input.messages) };
}

export function detokenize(input: { tokens: readonly number[]; encoding?: string; model?: string }) {
  const encoding = pickEncoding(input.encoding, input.model);
  const bad = input.tokens.findIndex((id) => !encoding.isValidToken(id));
  if (bad >= 0) throw badRequest(`Token id ${input.tokens[bad]} is not in ${encoding.name}.`, `tokens[${bad}]`);
  return { encoding: encoding.name, text: encoding.decode(input.tokens) };
}

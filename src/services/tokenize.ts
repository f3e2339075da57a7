import { badRequest } from '../errors.js';
import { countChatTokensAsync, countTokensAsync, encodeToJsonAsync } from '../tokens/async.js';
import type { ChatMessageForCount } from '../tokens/chat.js';
import {
  getEncoding,
  resolveEncodingName,
  type AllowedSpecial,
  type Encoding,
  type EncodingName,
} from '../tokens/encodings.js';
import { encodingNameForModel, KNOWN_MODEL_PREFIXES } from '../tokens/models.js';

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
    if (!name)
      throw badRequest(
        `No known encoding for model '${model}'. Known model families: ${KNOWN_MODEL_PREFIXES.join(', ')}.`,
        'model',
        'model_not_found',
      );
    return getEncoding(name);
  }
  return getEncoding(DEFAULT_ENCODING);
}

/**
 * The tokenize answer as JSON text in UTF-8, ready to send: the ids array is written as text where the ids are
 * made (in a worker for large inputs), so no id is cloned or stringified on the main thread.
 */
export async function tokenizeTextJson(input: {
  text: string;
  encoding?: string;
  model?: string;
  allowed_special?: AllowedSpecial;
  count_only?: boolean;
}): Promise<Uint8Array> {
  const encoding = pickEncoding(input.encoding, input.model);
  const head = `{"encoding":${JSON.stringify(encoding.name)},`;
  if (input.count_only) {
    const count = await countTokensAsync(encoding.name, input.text, input.allowed_special);
    return Buffer.from(`${head}"count":${count}}`);
  }
  const { count, json } = await encodeToJsonAsync(encoding.name, input.text, input.allowed_special);
  return Buffer.concat([Buffer.from(`${head}"tokens":`), json, Buffer.from(`,"count":${count}}`)]);
}

export async function countMessages(input: {
  messages: readonly ChatMessageForCount[];
  encoding?: string;
  model?: string;
}) {
  const encoding = pickEncoding(input.encoding, input.model);
  return { encoding: encoding.name, count: await countChatTokensAsync(encoding.name, input.messages) };
}

export function detokenize(input: { tokens: readonly number[]; encoding?: string; model?: string }) {
  const encoding = pickEncoding(input.encoding, input.model);
  const bad = input.tokens.findIndex((id) => !encoding.isValidToken(id));
  if (bad >= 0) throw badRequest(`Token id ${input.tokens[bad]} is not in ${encoding.name}.`, `tokens[${bad}]`);
  return { encoding: encoding.name, text: encoding.decode(input.tokens) };
}

import type { EncodingName } from './encodings.js';

/** Model-name prefixes → encoding, after tiktoken's table; Azure spells gpt-3.5 as `gpt-35`. First match wins. */
const MODEL_PREFIXES: [prefix: string, encoding: EncodingName][] = [
  ['gpt-4o', 'o200k_base'],
  ['gpt-4.1', 'o200k_base'],
  ['gpt-4.5', 'o200k_base'],
  ['gpt-5', 'o200k_base'],
  ['o1', 'o200k_base'],
  ['o3', 'o200k_base'],
  ['o4', 'o200k_base'],
  ['chatgpt-4o', 'o200k_base'],
  ['gpt-4', 'cl100k_base'],
  ['gpt-35-turbo', 'cl100k_base'],
  ['gpt-3.5-turbo', 'cl100k_base'],
  ['text-embedding-3', 'cl100k_base'],
  ['text-embedding-ada-002', 'cl100k_base'],
  ['text-davinci-003', 'p50k_base'],
  ['text-davinci-002', 'p50k_base'],
  ['code-davinci', 'p50k_base'],
  ['code-cushman', 'p50k_base'],
  ['davinci-002', 'cl100k_base'],
  ['babbage-002', 'cl100k_base'],
  ['text-davinci-001', 'r50k_base'],
  ['text-curie', 'r50k_base'],
  ['text-babbage', 'r50k_base'],
  ['text-ada', 'r50k_base'],
  ['davinci', 'r50k_base'],
  ['curie', 'r50k_base'],
  ['babbage', 'r50k_base'],
  ['ada', 'r50k_base'],
  ['gpt2', 'r50k_base'],
];

export const KNOWN_MODEL_PREFIXES = MODEL_PREFIXES.map(([prefix]) => prefix);

export function encodingNameForModel(model: string): EncodingName | undefined {
  const name = model.toLowerCase();
  return MODEL_PREFIXES.find(([prefix]) => name.startsWith(prefix))?.[1];
}

/** Context windows (prompt + answer) of the models this service fronts; used to fit conversation history. */
const CONTEXT_WINDOWS: [prefix: string, tokens: number][] = [
  ['gpt-4o', 128_000],
  ['chatgpt-4o', 128_000],
  ['gpt-4.1', 1_047_576],
  ['gpt-4.5', 128_000],
  ['gpt-5', 400_000],
  // The o1 previews are smaller than o1 itself.
  ['o1-mini', 128_000],
  ['o1-preview', 128_000],
  ['o1', 200_000],
  ['o3', 200_000],
  ['o4', 200_000],
  ['gpt-4-32k', 32_768],
  ['gpt-4-turbo', 128_000],
  ['gpt-4', 8_192],
  ['gpt-35-turbo-instruct', 4_096],
  ['gpt-3.5-turbo-instruct', 4_096],
  ['gpt-35-turbo-16k', 16_384],
  ['gpt-35-turbo', 16_385],
  ['gpt-3.5-turbo', 16_385],
];

export function contextWindowForModel(model: string, fallback = 8_192): number {
  const name = model.toLowerCase();
  return CONTEXT_WINDOWS.find(([prefix]) => name.startsWith(prefix))?.[1] ?? fallback;
}

/** Most tokens a model writes in one answer (its output limit), from the model providers' model pages. */
const MAX_OUTPUT_TOKENS: [prefix: string, tokens: number][] = [
  ['gpt-4o', 16_384],
  ['chatgpt-4o', 16_384],
  ['gpt-4.1', 32_768],
  ['gpt-4.5', 16_384],
  ['gpt-5', 128_000],
  ['o1-mini', 65_536],
  ['o1-preview', 32_768],
  ['o1', 100_000],
  ['o3', 100_000],
  ['o4', 100_000],
  ['gpt-4-turbo', 4_096],
  ['gpt-4', 4_096],
  ['gpt-35-turbo', 4_096],
  ['gpt-3.5-turbo', 4_096],
];

/** The answer reserved against a quota when a request sets no `max_tokens`. */
export function maxOutputTokensForModel(model: string, fallback = 4_096): number {
  const name = model.toLowerCase();
  return MAX_OUTPUT_TOKENS.find(([prefix]) => name.startsWith(prefix))?.[1] ?? fallback;
}

import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

export const ENCODING_NAMES = ['cl100k_base', 'o200k_base', 'p50k_base', 'r50k_base'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

/** Accepted names, including tiktoken's alias `gpt2` for r50k_base. */
const ALIASES: Record<string, EncodingName> = { gpt2: 'r50k_base' };

export function resolveEncodingName(name: string): EncodingName | undefined {
  if ((ENCODING_NAMES as readonly string[]).includes(name)) return name as EncodingName;
  return ALIASES[name];
}

export type AllowedSpecial = 'all' | readonly string[];

export interface Encoding {
  readonly name: EncodingName;
  /** Special-token text (`<|endoftext|>`) is ordinary text unless listed in `allowedSpecial`. */
  encode(text: string, allowedSpecial?: AllowedSpecial): number[];
  count(text: string, allowedSpecial?: AllowedSpecial): number;
  decode(tokens: readonly number[]): string;
  /** True for every id `decode` accepts (ordinary and special tokens). */
  isValidToken(id: number): boolean;
  readonly specialTokens: readonly string[];
}

// Rank files are loaded on first use of an encoding only (cold start: they are 0.5–2.3 MB of JS each).
const require = createRequire(import.meta.url);
const RANK_FILES: Record<EncodingName, string> = {
  cl100k_base: 'js-tiktoken/ranks/cl100k_base',
  o200k_base: 'js-tiktoken/ranks/o200k_base',
  p50k_base: 'js-tiktoken/ranks/p50k_base',
  r50k_base: 'js-tiktoken/ranks/r50k_base',
};

const loaded = new Map<EncodingName, Encoding>();

function load(name: EncodingName): Encoding {
  const ranks = require(RANK_FILES[name]) as TiktokenBPE | { default: TiktokenBPE };
  const bpe: TiktokenBPE = 'default' in ranks ? ranks.default : ranks;
  const tiktoken = new Tiktoken(bpe);
  const specialTokens = Object.keys(bpe.special_tokens);
  const specialIds = new Set(Object.values(bpe.special_tokens));
  // Rank-file lines are `<label> <first rank> <token>...`; `decode` of an id outside them is undefined in js-tiktoken.
  const ranges = bpe.bpe_ranks.split('\n').map((line) => {
    const fields = line.split(' ');
    const first = Number(fields[1]);
    return [first, first + fields.length - 2] as const;
  });
  const encode = (text: string, allowedSpecial: AllowedSpecial = []) =>
    tiktoken.encode(text, allowedSpecial === 'all' ? 'all' : [...allowedSpecial], []);
  return {
    name,
    encode,
    count: (text, allowedSpecial) => encode(text, allowedSpecial).length,
    decode: (tokens) => tiktoken.decode([...tokens]),
    isValidToken: (id) => Number.isInteger(id) && id >= 0 && (specialIds.has(id) || ranges.some(([lo, hi]) => id >= lo && id < hi)),
    specialTokens,
  };
}

export function getEncoding(name: EncodingName): Encoding {
  let encoding = loaded.get(name);
  if (!encoding) {
    encoding = load(name);
    loaded.set(name, encoding);
  }
  return encoding;
}

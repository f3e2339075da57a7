/**
 * The four tiktoken encodings, on this project's own engine (src/tokens/bpe.ts) over compact rank tables.
 * Each encoding loads on first use: one file read and one hash index, no per-token strings (see
 * table-format.ts). Ids are exactly tiktoken's; text that looks like a special token is ordinary text unless
 * the caller allows that special token.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BytePairEncoder, IdList } from './bpe.js';
import { decodeTable, packTokens, parseJsTiktokenRanks, type RankTable } from './table-format.js';

import { ENCODING_ALIASES, ENCODING_NAMES, type EncodingName } from './encoding-names.js';

export { ENCODING_NAMES, type EncodingName };
const ALIASES: Record<string, EncodingName> = ENCODING_ALIASES;

export function resolveEncodingName(name: string): EncodingName | undefined {
  if ((ENCODING_NAMES as readonly string[]).includes(name)) return name as EncodingName;
  return ALIASES[name];
}

export type AllowedSpecial = 'all' | readonly string[];

export interface Encoding {
  readonly name: EncodingName;
  /** Special-token text (`<|endoftext|>`) is ordinary text unless listed in `allowedSpecial`. */
  encode(text: string, allowedSpecial?: AllowedSpecial): number[];
  /** The ids of `encode` as a typed array (cheaper to make for large texts; what the tokenize answer writes). */
  encodeToArray(text: string, allowedSpecial?: AllowedSpecial): Uint32Array;
  /** The length `encode` would return, without building the ids. */
  count(text: string, allowedSpecial?: AllowedSpecial): number;
  decode(tokens: readonly number[]): string;
  /** The raw bytes of one token (a token may hold part of a UTF-8 character), or undefined for an unknown id. */
  tokenBytes(id: number): Uint8Array | undefined;
  /** True for every id `decode` accepts (ordinary and special tokens). */
  isValidToken(id: number): boolean;
  readonly specialTokens: readonly string[];
}

/** Where the built tables are: beside this module (src/tokens, via tsx) or under the bundle (dist/). */
function tablePath(name: EncodingName): URL | undefined {
  const candidates = [
    new URL(`./tables/${name}.bin`, import.meta.url),
    new URL(`./tokens/tables/${name}.bin`, import.meta.url),
  ];
  return candidates.find((url) => existsSync(url));
}

function loadTable(name: EncodingName): RankTable {
  const path = tablePath(name);
  if (path) return decodeTable(readFileSync(path));
  // No built table (e.g. `npm install --ignore-scripts`): derive it from js-tiktoken's ranks; slower, same ids.
  const require = createRequire(import.meta.url);
  type Ranks = Parameters<typeof parseJsTiktokenRanks>[0];
  const source = require(`js-tiktoken/ranks/${name}`) as Ranks & { default?: Ranks };
  const { header, tokens } = parseJsTiktokenRanks(source.default ?? source, name);
  return { header, ...packTokens(tokens, header.count) };
}

/** Pieces up to this many UTF-16 units are cached, at most MAX_CACHED_PIECES of them (a few MB at worst). */
const MAX_CACHED_PIECE = 24;
const MAX_CACHED_PIECES = 50_000;

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * tiktoken's patterns run on Rust's regex, where `\s` is Unicode White_Space: it includes U+0085 and not U+FEFF,
 * the opposite of JavaScript's `\s`. Spelling the class out keeps our pieces, and so our ids, equal to tiktoken's.
 */
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
export function rustWhitespacePattern(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      i++;
      if (next === 's') out += inClass ? WHITE_SPACE : `[${WHITE_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${WHITE_SPACE}]`;
      else out += c + next;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    out += c;
  }
  return out;
}

class TableEncoding implements Encoding {
  readonly specialTokens: readonly string[];
  private readonly bpe: BytePairEncoder;
  private readonly pattern: RegExp;
  private readonly special: Record<string, number>;
  private readonly specialById = new Map<number, Uint8Array>();
  private scratch = new Uint8Array(1024);
  private readonly wholeTokens = new Map<string, number>();
  private readonly textEncoder = new TextEncoder();
  private readonly textDecoder = new TextDecoder('utf-8');

  constructor(
    readonly name: EncodingName,
    table: RankTable,
  ) {
    this.bpe = new BytePairEncoder(table);
    this.pattern = new RegExp(rustWhitespacePattern(table.header.patStr), 'gu');
    this.special = table.header.specialTokens;
    this.specialTokens = Object.keys(this.special);
    for (const [text, id] of Object.entries(this.special)) this.specialById.set(id, this.textEncoder.encode(text));
  }

  /** Runs `visit` over ordinary-text segments and allowed special tokens, in order. */
  private walk(
    text: string,
    allowedSpecial: AllowedSpecial,
    onText: (segment: string) => void,
    onSpecial: (id: number) => void,
  ) {
    const allowed = allowedSpecial === 'all' ? this.specialTokens : allowedSpecial.filter((s) => s in this.special);
    if (allowed.length === 0) return onText(text);
    const splitter = new RegExp(allowed.map(escapeRegex).join('|'), 'g');
    let start = 0;
    for (const match of text.matchAll(splitter)) {
      if (match.index > start) onText(text.slice(start, match.index));
      onSpecial(this.special[match[0]]!);
      start = match.index + match[0].length;
    }
    if (start < text.length) onText(text.slice(start));
  }

  private segment(text: string, out: IdList | null): number {
    let total = 0;
    this.pattern.lastIndex = 0;
    for (const match of text.matchAll(this.pattern)) {
      const piece = match[0];
      // Real text repeats its words: pieces that are one whole token are remembered (bounded).
      const cached = piece.length <= MAX_CACHED_PIECE ? this.wholeTokens.get(piece) : undefined;
      if (cached !== undefined) {
        out?.push(cached);
        total++;
        continue;
      }
      // UTF-8 of the piece into reusable scratch space; lone surrogates become U+FFFD, as TextEncoder does.
      if (piece.length * 3 > this.scratch.length) this.scratch = new Uint8Array(piece.length * 3);
      const { written } = this.textEncoder.encodeInto(piece, this.scratch);
      const whole = this.bpe.rankOf(this.scratch, 0, written);
      if (whole >= 0) {
        if (piece.length <= MAX_CACHED_PIECE) {
          if (this.wholeTokens.size >= MAX_CACHED_PIECES) this.wholeTokens.clear();
          this.wholeTokens.set(piece, whole);
        }
        out?.push(whole);
        total++;
        continue;
      }
      total += this.bpe.mergePiece(this.scratch, written, out);
    }
    return total;
  }

  encode(text: string, allowedSpecial: AllowedSpecial = []): number[] {
    return Array.from(this.encodeToArray(text, allowedSpecial));
  }

  encodeToArray(text: string, allowedSpecial: AllowedSpecial = []): Uint32Array {
    // Most text is 3-5 characters per token; the list grows if it is denser.
    const out = new IdList(text.length >> 2);
    this.walk(
      text,
      allowedSpecial,
      (segment) => void this.segment(segment, out),
      (id) => out.push(id),
    );
    return out.view();
  }

  count(text: string, allowedSpecial: AllowedSpecial = []): number {
    let total = 0;
    this.walk(
      text,
      allowedSpecial,
      (segment) => void (total += this.segment(segment, null)),
      () => void total++,
    );
    return total;
  }

  decode(tokens: readonly number[]): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (const id of tokens) {
      const bytes = this.bpe.tokenBytes(id) ?? this.specialById.get(id);
      if (!bytes) continue;
      parts.push(bytes);
      length += bytes.length;
    }
    const joined = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    return this.textDecoder.decode(joined);
  }

  tokenBytes(id: number): Uint8Array | undefined {
    return this.bpe.tokenBytes(id) ?? this.specialById.get(id);
  }

  isValidToken(id: number): boolean {
    return Number.isInteger(id) && (this.bpe.tokenBytes(id) !== undefined || this.specialById.has(id));
  }
}

const loaded = new Map<EncodingName, Encoding>();

export function getEncoding(name: EncodingName): Encoding {
  let encoding = loaded.get(name);
  if (!encoding) {
    encoding = new TableEncoding(name, loadTable(name));
    loaded.set(name, encoding);
  }
  return encoding;
}

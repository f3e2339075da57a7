/**
 * The compact rank table of one encoding, as shipped in `tables/<name>.bin` (built from js-tiktoken's rank
 * files by scripts/build-token-tables.ts). Layout, little-endian:
 *   "TKT2" | u32 header length | header JSON (name, pat_str, special tokens, rank count, index size) | pad to 4 |
 *   u32 offsets[count + 1] | i32 index[indexSize] | token bytes
 * Token `r` is bytes[offsets[r] .. offsets[r + 1]]; an empty range is a rank the encoding does not use.
 * `index` is the encoder's open-addressing hash of token bytes → rank + 1 (bpe.ts `buildRankIndex`), built here
 * once instead of at every cold start (it took 8–20 ms of the first request). Loading is three typed-array views
 * over the file read, no copy on a little-endian machine: no per-token JS string or Map entry.
 */
import { buildRankIndex } from './bpe.js';

export interface TableHeader {
  name: string;
  patStr: string;
  specialTokens: Record<string, number>;
  count: number;
  /** Slots in the hash index (a power of two); absent in a table built without one. */
  indexSize?: number;
}

export interface RankTable {
  header: TableHeader;
  offsets: Uint32Array;
  bytes: Uint8Array;
  /** The prebuilt hash index, when the file carries one. */
  index?: Int32Array;
}

const MAGIC = 0x32544b54; // "TKT2"
const MAGIC_V1 = 0x31544b54; // "TKT1": no index
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The offsets and bytes of `tokens`, as the encoder reads them. */
export function packTokens(tokens: (Uint8Array | undefined)[], count: number) {
  const offsets = new Uint32Array(count + 1);
  const bytes = new Uint8Array(tokens.reduce((n, t) => n + (t?.length ?? 0), 0));
  let at = 0;
  for (let rank = 0; rank < count; rank++) {
    offsets[rank] = at;
    const token = tokens[rank];
    if (token) bytes.set(token, at);
    at += token?.length ?? 0;
  }
  offsets[count] = at;
  return { offsets, bytes };
}

export function encodeTable(header: TableHeader, tokens: (Uint8Array | undefined)[]): Uint8Array {
  const { offsets, bytes } = packTokens(tokens, header.count);
  const index = buildRankIndex(offsets, bytes, header.count);
  const headerBytes = new TextEncoder().encode(JSON.stringify({ ...header, indexSize: index.length }));
  const offsetsStart = Math.ceil((8 + headerBytes.length) / 4) * 4;
  const indexStart = offsetsStart + 4 * offsets.length;
  const bytesStart = indexStart + 4 * index.length;
  const out = new Uint8Array(bytesStart + bytes.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  offsets.forEach((offset, i) => view.setUint32(offsetsStart + 4 * i, offset, true));
  index.forEach((entry, i) => view.setInt32(indexStart + 4 * i, entry, true));
  out.set(bytes, bytesStart);
  return out;
}

/** A view of `length` 32-bit words at `at`, without a copy when the file allows it (aligned, little-endian). */
function words<T extends Uint32Array | Int32Array>(
  file: Uint8Array,
  at: number,
  length: number,
  make: new (buffer: ArrayBuffer | number, offset?: number, length?: number) => T,
): T {
  if (LITTLE_ENDIAN && (file.byteOffset + at) % 4 === 0)
    return new make(file.buffer as ArrayBuffer, file.byteOffset + at, length);
  const copy = new make(length);
  const view = new DataView(file.buffer, file.byteOffset + at, 4 * length);
  for (let i = 0; i < length; i++) copy[i] = view.getUint32(4 * i, true);
  return copy;
}

export function decodeTable(file: Uint8Array): RankTable {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // A TKT1 table (built before the index was shipped, e.g. by an earlier `npm install`) reads the same, index-less.
  const magic = view.getUint32(0, true);
  if (magic !== MAGIC && magic !== MAGIC_V1) throw new Error('not a token table (run `npm run build:tokens`)');
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as TableHeader;
  const offsetsStart = Math.ceil((8 + headerLength) / 4) * 4;
  const offsets = words(file, offsetsStart, header.count + 1, Uint32Array);
  const indexStart = offsetsStart + 4 * (header.count + 1);
  const index = words(file, indexStart, header.indexSize ?? 0, Int32Array);
  const bytes = file.subarray(indexStart + 4 * index.length);
  return { header, offsets, bytes, index: index.length ? index : undefined };
}

/** js-tiktoken's rank-file format: lines of `<label> <first rank> <base64 token> …`. */
export function parseJsTiktokenRanks(
  source: { pat_str: string; special_tokens: Record<string, number>; bpe_ranks: string },
  name: string,
) {
  const tokens: Uint8Array[] = [];
  let count = 0;
  for (const line of source.bpe_ranks.split('\n')) {
    if (!line) continue;
    const fields = line.split(' ');
    const first = Number.parseInt(fields[1]!, 10);
    for (let i = 2; i < fields.length; i++) {
      tokens[first + i - 2] = new Uint8Array(Buffer.from(fields[i]!, 'base64'));
      count = Math.max(count, first + i - 1);
    }
  }
  return { header: { name, patStr: source.pat_str, specialTokens: source.special_tokens, count }, tokens };
}

/**
 * The compact rank table of one encoding, as shipped in `tables/<name>.bin` (built from js-tiktoken's rank
 * files by scripts/build-token-tables.ts). Layout, little-endian:
 *   "TKT1" | u32 header length | header JSON (name, pat_str, special tokens, rank count) | pad to 4 |
 *   u32 offsets[count + 1] | token bytes
 * Token `r` is bytes[offsets[r] .. offsets[r + 1]]; an empty range is a rank the encoding does not use.
 * Loading is two typed-array views and one hash index over them: no per-token JS string or Map entry.
 */
export interface TableHeader {
  name: string;
  patStr: string;
  specialTokens: Record<string, number>;
  count: number;
}

export interface RankTable {
  header: TableHeader;
  offsets: Uint32Array;
  bytes: Uint8Array;
}

const MAGIC = 0x31544b54; // "TKT1"

export function encodeTable(header: TableHeader, tokens: (Uint8Array | undefined)[]): Uint8Array {
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 8 + headerBytes.length;
  const offsetsStart = Math.ceil(headerEnd / 4) * 4;
  const totalBytes = tokens.reduce((n, t) => n + (t?.length ?? 0), 0);
  const out = new Uint8Array(offsetsStart + 4 * (header.count + 1) + totalBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  let at = offsetsStart + 4 * (header.count + 1);
  const bytesStart = at;
  for (let rank = 0; rank <= header.count; rank++) {
    view.setUint32(offsetsStart + 4 * rank, at - bytesStart, true);
    const token = tokens[rank];
    if (rank < header.count && token) {
      out.set(token, at);
      at += token.length;
    }
  }
  return out;
}

export function decodeTable(file: Uint8Array): RankTable {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('not a token table');
  const headerLength = view.getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + headerLength))) as TableHeader;
  const offsetsStart = Math.ceil((8 + headerLength) / 4) * 4;
  // Copy the offsets into an aligned array (the file buffer may not be 4-byte aligned).
  const offsets = new Uint32Array(header.count + 1);
  for (let i = 0; i <= header.count; i++) offsets[i] = view.getUint32(offsetsStart + 4 * i, true);
  const bytes = file.subarray(offsetsStart + 4 * (header.count + 1));
  return { header, offsets, bytes };
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

/**
 * Byte-pair encoding over a compact rank table, exact to tiktoken: each step merges the adjacent pair of
 * lowest rank, leftmost first. Short pieces use tiktoken's own quadratic scan (fastest when small); long
 * pieces (a run of one letter, say) keep parts in a linked list with candidate pairs in a binary heap ordered
 * by (rank, position), re-ranking only the merged part's neighbours: O(n log n) instead of O(n²).
 */
import type { RankTable } from './table-format.js';

const SMALL_PIECE = 64;

/**
 * Ids as they are made, in a growable typed array: pushing 376K ids onto a JS array cost 9-18 ms (growth copies and
 * garbage), more than writing them out as JSON.
 */
export class IdList {
  private buffer: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.buffer = new Uint32Array(Math.max(16, capacity));
  }
  push(id: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Uint32Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = id;
  }
  /** The ids so far (a view: later pushes may or may not show through it). */
  view(): Uint32Array {
    return this.buffer.subarray(0, this.length);
  }
}

export class BytePairEncoder {
  private readonly index: Int32Array;
  private readonly mask: number;
  private readonly offsets: Uint32Array;
  private readonly bytes: Uint8Array;
  readonly count: number;
  // Scratch space for short pieces, reused across calls.
  private readonly starts = new Int32Array(SMALL_PIECE + 2);
  private readonly ranks = new Int32Array(SMALL_PIECE + 2);
  /** The rank of each part as it is merged, so the ids come out without hashing every part again. */
  private readonly partRanks = new Int32Array(SMALL_PIECE + 2);
  /** The rank of each single byte (every byte is a token in these encodings). */
  private readonly byteRanks = new Int32Array(256);

  constructor(table: RankTable) {
    this.offsets = table.offsets;
    this.bytes = table.bytes;
    this.count = table.header.count;
    this.index = table.index ?? buildRankIndex(this.offsets, this.bytes, this.count);
    this.mask = this.index.length - 1;
    const byte = new Uint8Array(1);
    for (let b = 0; b < 256; b++) {
      byte[0] = b;
      this.byteRanks[b] = this.rankOf(byte, 0, 1);
    }
  }

  /** The rank of buf[start, end), or -1. */
  rankOf(buf: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let slot = hashBytes(buf, start, end) & this.mask;
    for (;;) {
      const entry = this.index[slot]!;
      if (entry === 0) return -1;
      const rank = entry - 1;
      const tokenStart = this.offsets[rank]!;
      if (this.offsets[rank + 1]! - tokenStart === length) {
        let i = 0;
        while (i < length && this.bytes[tokenStart + i] === buf[start + i]) i++;
        if (i === length) return rank;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  tokenBytes(rank: number): Uint8Array | undefined {
    if (rank < 0 || rank >= this.count) return undefined;
    const start = this.offsets[rank]!;
    const end = this.offsets[rank + 1]!;
    return end > start ? this.bytes.subarray(start, end) : undefined;
  }

  /** Encodes buf[0, length): pushes ids to `out` when given, and returns how many there are. */
  encodePiece(buf: Uint8Array, length: number, out: IdList | null): number {
    const whole = this.rankOf(buf, 0, length);
    if (whole >= 0) {
      out?.push(whole);
      return 1;
    }
    return this.mergePiece(buf, length, out);
  }

  /** Encodes a piece known not to be one whole token. */
  mergePiece(buf: Uint8Array, length: number, out: IdList | null): number {
    return length <= SMALL_PIECE ? this.mergeSmall(buf, length, out) : this.mergeLarge(buf, length, out);
  }

  private mergeSmall(buf: Uint8Array, length: number, out: IdList | null): number {
    const { starts, ranks, partRanks, byteRanks } = this;
    let parts = length + 1; // boundaries 0..length
    for (let i = 0; i <= length; i++) starts[i] = i;
    if (out) for (let i = 0; i < length; i++) partRanks[i] = byteRanks[buf[i]!]!;
    for (let i = 0; i < length - 1; i++) ranks[i] = this.rankOf(buf, i, i + 2);
    ranks[length - 1] = -1;
    for (;;) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i < parts - 2; i++) {
        const r = ranks[i]!;
        if (r >= 0 && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      // Merge part `best` with the next: drop boundary best+1. The merged part's rank is the pair's.
      partRanks[best] = bestRank;
      for (let i = best + 1; i < parts - 1; i++) {
        starts[i] = starts[i + 1]!;
        ranks[i] = ranks[i + 1]!;
        partRanks[i] = partRanks[i + 1]!;
      }
      parts--;
      ranks[best] = best + 2 < parts ? this.rankOf(buf, starts[best]!, starts[best + 2]!) : -1;
      if (best > 0) ranks[best - 1] = this.rankOf(buf, starts[best - 1]!, starts[best + 1]!);
    }
    if (out) for (let i = 0; i < parts - 1; i++) out.push(partRanks[i]!);
    return parts - 1;
  }

  private mergeLarge(buf: Uint8Array, n: number, out: IdList | null): number {
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const pairRank = new Int32Array(n);
    // The rank of the part starting at each position (set as parts merge), only when the ids are wanted.
    const partRank = out ? new Int32Array(n) : null;
    if (partRank) for (let i = 0; i < n; i++) partRank[i] = this.byteRanks[buf[i]!]!;
    const heap = new MinHeap(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    for (let i = 0; i < n - 1; i++) {
      const rank = this.rankOf(buf, i, i + 2);
      pairRank[i] = rank;
      if (rank >= 0) heap.push(rank, i);
    }
    pairRank[n - 1] = -1;
    let parts = n;
    while (heap.size > 0) {
      const rank = heap.topRank();
      const pos = heap.pop();
      // Entries go stale when a neighbour merged; the current state says whether this one still holds.
      if (prev[pos] === -2 || pairRank[pos] !== rank) continue;
      const gone = next[pos]!;
      const after = next[gone]!;
      next[pos] = after;
      prev[gone] = -2;
      if (after < n) prev[after] = pos;
      if (partRank) partRank[pos] = rank;
      parts--;
      const r = after < n ? this.rankOf(buf, pos, next[after]!) : -1;
      pairRank[pos] = r;
      if (r >= 0) heap.push(r, pos);
      const before = prev[pos]!;
      if (before >= 0) {
        const rb = this.rankOf(buf, before, after);
        pairRank[before] = rb;
        if (rb >= 0) heap.push(rb, before);
      }
    }
    if (out && partRank) for (let pos = 0; pos < n; pos = next[pos]!) out.push(partRank[pos]!);
    return parts;
  }
}

/**
 * The open-addressing hash index of token bytes → rank + 1 (0 = empty), at most half full. Built into the table
 * files by scripts/build-token-tables.ts; built here only for a table without one.
 */
export function buildRankIndex(offsets: Uint32Array, bytes: Uint8Array, count: number): Int32Array {
  let size = 1;
  while (size < count * 2) size <<= 1;
  const mask = size - 1;
  const index = new Int32Array(size);
  for (let rank = 0; rank < count; rank++) {
    const start = offsets[rank]!;
    const end = offsets[rank + 1]!;
    if (end === start) continue;
    let slot = hashBytes(bytes, start, end) & mask;
    while (index[slot] !== 0) slot = (slot + 1) & mask;
    index[slot] = rank + 1;
  }
  return index;
}

function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/** A binary min-heap of (rank, position) pairs; ties broken by position, as tiktoken breaks them leftmost. */
class MinHeap {
  private keys: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(16, capacity));
  }
  // rank < 2^31 and position < 2^23 pack exactly into a double: rank * 2^23 + position.
  push(rank: number, pos: number) {
    if (this.size === this.keys.length) {
      const grown = new Float64Array(this.keys.length * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    const key = rank * 8388608 + pos;
    let i = this.size++;
    const keys = this.keys;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      i = parent;
    }
    keys[i] = key;
  }
  topRank(): number {
    return Math.floor(this.keys[0]! / 8388608);
  }
  pop(): number {
    const keys = this.keys;
    const top = keys[0]!;
    const last = keys[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && keys[child + 1]! < keys[child]!) child++;
      if (keys[child]! >= last) break;
      keys[i] = keys[child]!;
      i = child;
    }
    keys[i] = last;
    return top % 8388608;
  }
}

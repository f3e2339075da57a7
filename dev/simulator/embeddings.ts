/**
 * Deterministic unit vectors: every word adds ±1 at a few hashed positions, plus a little per-text noise, so
 * texts that share words have a higher cosine similarity than unrelated texts.
 */
import { hash } from './generate.js';

export function embed(text: string, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) {
    for (let k = 0; k < 4; k++) {
      const h = hash(`${k}:${word}`);
      vector[h % dimensions]! += h & 0x80000000 ? 1 : -1;
    }
  }
  let seed = hash(text) || 1;
  for (let i = 0; i < dimensions; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    vector[i]! += (seed / 0x100000000 - 0.5) * 0.05;
  }
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimensions; i++) vector[i]! /= norm;
  return vector;
}

export function toBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

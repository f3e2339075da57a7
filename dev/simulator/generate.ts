/**
 * Deterministic "model" output for the simulator. The text depends only on the request (and `seed` when
 * temperature > 0), so tests and docs can quote it. The seed tutorial's cases are answered as the real models did.
 */
import { getEncoding, type Encoding } from '../../src/tokens/encodings.js';

const WORDS = (
  'the service answers every request with a short deterministic sentence so that local development and tests ' +
  'can rely on stable output while still exercising tokens streaming stop sequences and usage accounting ' +
  'frontends render these words exactly as they would render a real model answer'
).split(' ');

/** FNV-1a, for seeding. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function prng(seed: number) {
  let state = seed || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

function sentences(seed: number, count: number): string {
  const random = prng(seed);
  const out: string[] = [];
  for (let s = 0; s < count; s++) {
    const length = 6 + Math.floor(random() * 8);
    const words = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)]!);
    words[0] = words[0]!.charAt(0).toUpperCase() + words[0]!.slice(1);
    out.push(words.join(' ') + '.');
  }
  return out.join(' ');
}

/** Continues "1, 2, 3, 4, " style sequences, as the seed's completion example does. */
function continueSequence(prompt: string): string | null {
  const m = /(?:^|\D)((?:-?\d+\s*,\s*){2,})$/.exec(prompt);
  if (!m) return null;
  const numbers = m[1]!.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  const step = numbers[numbers.length - 1]! - numbers[numbers.length - 2]!;
  const parts: string[] = [];
  for (let n = numbers[numbers.length - 1]! + step, i = 0; i < 400; i++, n += step) parts.push(`${n}, `);
  return parts.join('');
}

export function completionText(prompt: string, variant: number): string {
  return continueSequence(prompt) ?? ' ' + sentences(hash(prompt) + variant, 6);
}

export function chatText(lastUser: string, transcriptKey: string, variant: number): string {
  const text = lastUser.trim();
  if (/^knock,? knock\.?$/i.test(text)) return "Who's there?";
  const count = /count to (\d+)/i.exec(text);
  if (count) {
    const n = Math.min(Number(count[1]), 1000);
    return Array.from({ length: n }, (_, i) => String(i + 1)).join(', ') + '.';
  }
  if (/^(hi|hello|hey)\b/i.test(text)) return 'Hello! How can I help you today?';
  return sentences(hash(transcriptKey) + variant, 3);
}

export interface Generated {
  text: string;
  finishReason: 'stop' | 'length' | 'content_filter';
  completionTokens: number;
  /** The answer as token-aligned pieces, for streaming. */
  pieces: string[];
}

/**
 * Applies max_tokens (exactly, in the deployment's tokens) and stop sequences (cut before the match) to a
 * full answer, like a model that generates token by token.
 */
export function shape(full: string, encoding: Encoding, maxTokens: number | undefined, stop: string[]): Generated {
  const tokens = encoding.encode(full);
  const limit = maxTokens ?? tokens.length;
  const kept = tokens.slice(0, limit);
  let text = encoding.decode(kept);
  let finishReason: Generated['finishReason'] = tokens.length > limit ? 'length' : 'stop';
  let cut = -1;
  for (const s of stop) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) {
    text = text.slice(0, cut);
    finishReason = 'stop';
  }
  if (full.includes('[[content_filter]]')) finishReason = 'content_filter';
  const completionTokens = finishReason === 'length' && cut < 0 ? limit : encoding.count(text);
  return { text, finishReason, completionTokens, pieces: splitPieces(text) };
}

/** Word-sized pieces (leading space kept), so a streamed answer concatenates to exactly the text. */
export function splitPieces(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

export { getEncoding };

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
  const numbers = m[1]!
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(Number);
  const step = numbers[numbers.length - 1]! - numbers[numbers.length - 2]!;
  const parts: string[] = [];
  for (let n = numbers[numbers.length - 1]! + step, i = 0; i < 400; i++, n += step) parts.push(`${n}, `);
  return parts.join('');
}

/** Continues a numbered list ("…\n2. ") with more short items, as the seed's generation pattern expects. */
function continueList(prompt: string, variant: number): string | null {
  const m = /(?:^|\n)(\d+)\. $/.exec(prompt);
  if (!m) return null;
  const next = Number(m[1]);
  const items = Array.from(
    { length: 6 },
    (_, i) => `${i ? `${next + i}. ` : ''}${sentences(hash(prompt) + variant + i, 1)}`,
  );
  return items.join('\n');
}

/**
 * Continues a labelled dialogue ("Doctor: …\nAI:"): one line for the speaker, then the other speaker's label follows.
 */
function continueDialogue(prompt: string, variant: number): string | null {
  const labels = [...prompt.matchAll(/^([^\s:：][^:：\n]{0,24})[:：]/gm)].map((l) => l[1]!);
  const speaker = /(?:^|\n)([^:：\n]{1,25})[:：]\s*$/.exec(prompt)?.[1];
  const other = [...labels].reverse().find((l) => l !== speaker);
  if (!speaker || !other || labels.length < 3) return null;
  return ` ${sentences(hash(prompt) + variant, 2)}\n${other}: ${sentences(hash(prompt) + variant + 1, 1)}\n${speaker}:`;
}

const POSITIVE = /\b(best|great|love|loved|beautiful|sharp|worth|amazing|wonderful|excellent|good|fun)\b|好|棒|喜欢/i;
const NEGATIVE = /\b(crash|crashed|clumsy|bad|worst|stuck|boring|broken|too much|hate|awful|poor)\b|差|烂|无聊/i;

/** Few-shot classification ("Label: X" examples, then an open "Label:"): picks a label seen in the examples. */
function classify(prompt: string): string | null {
  const open = /\n([^:：\n]{1,24})[:：]\s*$/.exec(prompt);
  if (!open) return null;
  const label = open[1]!;
  const values = [
    ...new Set(
      [...prompt.matchAll(new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[:：] *(.+)$`, 'gm'))].map((v) =>
        v[1]!.trim(),
      ),
    ),
  ];
  if (values.length < 2) return null;
  const item = prompt.slice(0, open.index).split('\n').at(-1) ?? '';
  const negative = NEGATIVE.test(item) && !POSITIVE.test(item);
  const pick = values.find((v) => (negative ? /neg|差/i : /pos|好/i).test(v)) ?? values[0]!;
  return ` ${pick}\n\n`;
}

export function completionText(prompt: string, variant: number): string {
  return (
    continueSequence(prompt) ??
    continueList(prompt, variant) ??
    classify(prompt) ??
    continueDialogue(prompt, variant) ??
    ' ' + sentences(hash(prompt) + variant, 6)
  );
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

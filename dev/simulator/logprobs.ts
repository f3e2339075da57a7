/**
 * Log probabilities for the simulator's answers, in Azure's shapes: chat (`logprobs.content[]` of token, logprob,
 * bytes, top_logprobs) and legacy completions (tokens, token_logprobs, top_logprobs, text_offset). Tokens come
 * from the deployment's real tokenizer; the probabilities are made up but repeatable, and the chosen token is the
 * most likely one (a temperature-0 model), so every logprob is ≤ 0 and each position's mass is below 1.
 */
import type { Encoding } from '../../src/tokens/encodings.js';
import { hash } from './generate.js';

const fatal = new TextDecoder('utf-8', { fatal: true });

/** A token's text; a token holding part of a character shows its bytes as `\xNN`, as OpenAI does. */
export function tokenText(bytes: Uint8Array): string {
  try {
    return fatal.decode(bytes);
  } catch {
    return [...bytes].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
  }
}

export interface TokenInfo {
  id: number;
  token: string;
  bytes: number[];
}

export function tokensOf(encoding: Encoding, text: string): TokenInfo[] {
  return encoding.encode(text).map((id) => {
    const bytes = encoding.tokenBytes(id) ?? new Uint8Array();
    return { id, token: tokenText(bytes), bytes: [...bytes] };
  });
}

/** Pieces of text made of whole tokens (a partial character joins the next token), with their tokens. */
export function tokenPieces(encoding: Encoding, text: string): { text: string; tokens: TokenInfo[] }[] {
  const out: { text: string; tokens: TokenInfo[] }[] = [];
  let pending: TokenInfo[] = [];
  for (const info of tokensOf(encoding, text)) {
    pending.push(info);
    try {
      const piece = fatal.decode(Uint8Array.from(pending.flatMap((t) => t.bytes)));
      out.push({ text: piece, tokens: pending });
      pending = [];
    } catch {
      // Part of a character: wait for the rest.
    }
  }
  if (pending.length) out.push({ text: tokenText(Uint8Array.from(pending.flatMap((t) => t.bytes))), tokens: pending });
  return out;
}

const ALTERNATIVES = [
  ' the',
  ' a',
  ' and',
  ',',
  '.',
  ' to',
  ' of',
  ' is',
  ' in',
  ' it',
  ' that',
  ' for',
  ' on',
  ' with',
  ' as',
  '\n',
];

/** The chosen token's logprob and up to `top` alternatives (chosen first), most likely first. */
function position(
  encoding: Encoding,
  info: TokenInfo,
  key: string,
  top: number,
): { logprob: number; top: { token: string; logprob: number; bytes: number[] }[] } {
  const h = hash(`${key}:${info.id}`);
  const p = 0.55 + (h % 4400) / 10000; // 0.55–0.99
  const logprob = Math.log(p);
  const alternatives: { token: string; logprob: number; bytes: number[] }[] = [
    { token: info.token, logprob, bytes: info.bytes },
  ];
  const trimmed = info.token.trim();
  const candidates = [trimmed, ` ${trimmed}`, trimmed.toLowerCase(), trimmed.toUpperCase(), ...ALTERNATIVES];
  const rest = 1 - p;
  for (const candidate of candidates) {
    if (alternatives.length >= top) break;
    if (!candidate || alternatives.some((a) => a.token === candidate)) continue;
    const ids = encoding.encode(candidate);
    if (ids.length !== 1) continue;
    const share = rest * 0.5 ** alternatives.length; // Geometric shares keep the position's total below 1.
    const bytes = [...(encoding.tokenBytes(ids[0]!) ?? [])];
    alternatives.push({ token: candidate, logprob: Math.log(share), bytes });
  }
  return { logprob, top: alternatives.slice(0, top) };
}

/** Chat `logprobs.content` entries for these tokens. */
export function chatLogprobs(encoding: Encoding, tokens: TokenInfo[], top: number, key: string) {
  return tokens.map((info) => {
    const at = position(encoding, info, key, top);
    return { token: info.token, logprob: at.logprob, bytes: info.bytes, top_logprobs: at.top };
  });
}

/** Legacy completions `logprobs` for text that starts at `offset`; `firstIsPrompt` gives the first token no logprob. */
export function completionLogprobs(
  encoding: Encoding,
  tokens: TokenInfo[],
  top: number,
  key: string,
  offset: number,
  firstIsPrompt = false,
) {
  const out = {
    tokens: [] as string[],
    token_logprobs: [] as (number | null)[],
    top_logprobs: [] as (Record<string, number> | null)[],
    text_offset: [] as number[],
  };
  let at = offset;
  let pending: number[] = [];
  tokens.forEach((info, i) => {
    const p = position(encoding, info, key, top + 1);
    out.tokens.push(info.token);
    out.text_offset.push(at);
    // OpenAI gives the prompt's first token no probability (nothing precedes it).
    out.token_logprobs.push(firstIsPrompt && i === 0 ? null : p.logprob);
    out.top_logprobs.push(firstIsPrompt && i === 0 ? null : Object.fromEntries(p.top.map((t) => [t.token, t.logprob])));
    pending.push(...info.bytes);
    try {
      at += fatal.decode(Uint8Array.from(pending)).length;
      pending = [];
    } catch {
      // Part of a character: the offset moves once the character is whole.
    }
  });
  return out;
}

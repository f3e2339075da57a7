import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  KNOWN_MODEL_PREFIXES,
  contextWindowForModel,
  encodingNameForModel,
  maxOutputTokensForModel,
} from '../../src/tokens/models.js';

describe('encodingNameForModel', () => {
  // After tiktoken's model table (tiktoken/model.py); Azure spells gpt-3.5 as gpt-35.
  const cases: [model: string, encoding: string | undefined][] = [
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini', 'o200k_base'],
    ['GPT-4O-2024-08-06', 'o200k_base'],
    ['chatgpt-4o-latest', 'o200k_base'],
    ['gpt-4.1-nano', 'o200k_base'],
    ['gpt-5-mini', 'o200k_base'],
    ['o1-mini', 'o200k_base'],
    ['o3-mini', 'o200k_base'],
    ['o4-mini', 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo', 'cl100k_base'],
    ['gpt-4-32k', 'cl100k_base'],
    ['gpt-35-turbo', 'cl100k_base'],
    ['gpt-35-turbo-instruct', 'cl100k_base'],
    ['gpt-3.5-turbo-16k', 'cl100k_base'],
    ['text-embedding-3-small', 'cl100k_base'],
    ['text-embedding-ada-002', 'cl100k_base'],
    ['davinci-002', 'cl100k_base'],
    ['babbage-002', 'cl100k_base'],
    ['text-davinci-003', 'p50k_base'],
    ['code-davinci-002', 'p50k_base'],
    ['text-davinci-001', 'r50k_base'],
    ['davinci', 'r50k_base'],
    ['gpt2', 'r50k_base'],
    ['my-chat-deployment', undefined],
    ['', undefined],
  ];
  for (const [model, encoding] of cases) {
    it(`${JSON.stringify(model)} → ${encoding ?? 'unknown'}`, () =>
      assert.equal(encodingNameForModel(model), encoding));
  }

  it('lists every prefix once', () => {
    assert.equal(new Set(KNOWN_MODEL_PREFIXES).size, KNOWN_MODEL_PREFIXES.length);
    assert.ok(KNOWN_MODEL_PREFIXES.includes('gpt-4o') && KNOWN_MODEL_PREFIXES.includes('gpt-35-turbo'));
  });
});

describe('contextWindowForModel', () => {
  // Context windows from the model providers' model pages (prompt + answer).
  const cases: [string, number][] = [
    ['gpt-4o', 128_000],
    ['gpt-4o-mini', 128_000],
    ['gpt-4.1-mini', 1_047_576],
    ['gpt-5', 400_000],
    ['o3-mini', 200_000],
    ['o1', 200_000],
    ['o1-mini', 128_000],
    ['o1-preview', 128_000],
    ['gpt-4.5-preview', 128_000],
    ['chatgpt-4o-latest', 128_000],
    ['gpt-4-32k-0613', 32_768],
    ['gpt-4-turbo-2024-04-09', 128_000],
    ['gpt-4', 8_192],
    ['gpt-35-turbo-instruct', 4_096],
    ['gpt-35-turbo-16k', 16_384],
    ['gpt-35-turbo', 16_385],
    ['GPT-3.5-Turbo', 16_385],
  ];
  for (const [model, tokens] of cases)
    it(`${model} → ${tokens}`, () => assert.equal(contextWindowForModel(model), tokens));

  it('falls back for a model it does not know', () => {
    assert.equal(contextWindowForModel('my-deployment'), 8_192);
    assert.equal(contextWindowForModel('my-deployment', 1_000), 1_000);
  });
});

describe('maxOutputTokensForModel', () => {
  const cases: [string, number][] = [
    ['gpt-4o-mini', 16_384],
    ['gpt-4.1', 32_768],
    ['gpt-5-nano', 128_000],
    ['o4-mini', 100_000],
    ['o1', 100_000],
    ['o1-mini', 65_536],
    ['o1-preview', 32_768],
    ['gpt-4.5-preview', 16_384],
    ['chatgpt-4o-latest', 16_384],
    ['gpt-4-turbo', 4_096],
    ['gpt-4', 4_096],
    ['gpt-35-turbo', 4_096],
  ];
  for (const [model, tokens] of cases)
    it(`${model} → ${tokens}`, () => assert.equal(maxOutputTokensForModel(model), tokens));

  it('falls back for a model it does not know', () => {
    assert.equal(maxOutputTokensForModel('my-deployment'), 4_096);
    assert.equal(maxOutputTokensForModel('my-deployment', 77), 77);
  });
});

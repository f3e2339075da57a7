/**
 * Request schemas are compiled once in steady use (src/schemas/compiled.ts, zod's `compile`); a compiled schema
 * must accept, refuse and output exactly what the interpreted one does. Checked on every route's body and query
 * schema with values generated from the schema itself (mostly well-formed, any node sometimes replaced by an
 * arbitrary JSON value), so both the accepting fast path and the refusals are exercised.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as z from 'zod/mini';
import '../../src/schemas/locale.js';
import { functions } from '../../src/functions/registry.js';

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** Values shaped by the schema; `depth` bounds recursion, and any node may be an arbitrary JSON value instead. */
function valuesOf(schema: unknown, depth = 0): fc.Arbitrary<unknown> {
  const shaped = shapedValuesOf(defOf(schema), depth);
  return fc.oneof({ arbitrary: shaped, weight: 9 }, { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 });
}

function shapedValuesOf(def: Def, depth: number): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, unknown>;
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, child] of Object.entries(shape)) record[key] = valuesOf(child, depth + 1);
      const keys = Object.keys(shape);
      // Optional keys come and go; an unknown key now and then (stripped, kept or refused by the catchall).
      return fc
        .tuple(
          fc.record(record, { requiredKeys: keys.filter((key) => defOf(shape[key]).type !== 'optional') }),
          fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })),
        )
        .map(([known, extra]) => ({ ...(extra ?? {}), ...known }));
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return fc.oneof(
        shapedValuesOf(defOf(def.innerType), depth),
        fc.constant(def.type === 'nullable' ? null : undefined),
      );
    case 'pipe':
      return shapedValuesOf(defOf(def.in), depth);
    case 'array':
      return fc.array(valuesOf(def.element, depth + 1), { maxLength: 5 });
    case 'union':
      return fc.oneof(...(def.options as unknown[]).map((option) => shapedValuesOf(defOf(option), depth)));
    case 'record':
      return fc.dictionary(fc.string({ maxLength: 8 }), valuesOf(def.valueType, depth + 1), { maxKeys: 3 });
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries as Record<string, unknown>));
    // Mostly values that pass common checks (names, small ranges), sometimes ones that do not.
    case 'string':
      return fc.oneof(
        { arbitrary: fc.constantFrom('a', 'user', 'gpt-4o-mini', 'call_1', 'tiktoken is great!'), weight: 4 },
        { arbitrary: fc.string({ maxLength: 12 }), weight: 2 },
        { arbitrary: fc.string({ minLength: 60, maxLength: 300 }), weight: 1 },
      );
    case 'number':
      if (typeof def.format === 'string' && def.format.includes('int'))
        return fc.oneof({ arbitrary: fc.integer({ min: 0, max: 4 }), weight: 4 }, fc.integer(), fc.double());
      return fc.oneof(
        { arbitrary: fc.integer({ min: 0, max: 2 }), weight: 4 },
        { arbitrary: fc.double({ min: 0, max: 1, noNaN: true }), weight: 3 },
        { arbitrary: fc.integer({ min: -5, max: 300_000 }), weight: 1 },
      );
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'never':
      return fc.constant(undefined); // as absent as a value can be: a field refused by name when sent
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/**
 * Requests each route accepts (the seed tutorial's shapes), for schemas too deep for random values to pass often:
 * a base with up to three of the schema's own fields overlaid, so the fast path's acceptances are exercised too.
 */
const BASES: Record<string, Record<string, unknown>> = {
  chat: {
    messages: [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Knock knock.' },
    ],
  },
  completions: { prompt: 'Once upon a time' },
  embeddings: { input: ['hello', 'world'] },
  responses: { input: 'Knock knock.' },
  tokenize: { text: 'tiktoken is great!' },
};
const baseFor = (name: string) =>
  /chat/i.test(name)
    ? BASES.chat
    : /completions/i.test(name)
      ? BASES.completions
      : /embeddings/i.test(name)
        ? BASES.embeddings
        : /response/i.test(name)
          ? BASES.responses
          : name === 'tokenize'
            ? BASES.tokenize
            : undefined;

function overlaidValuesOf(schema: unknown, base: Record<string, unknown>): fc.Arbitrary<unknown> {
  const def = defOf(schema);
  if (def.type !== 'object') return fc.constant(base);
  const shape = def.shape as Record<string, unknown>;
  return fc
    .subarray(Object.keys(shape), { maxLength: 3 })
    .chain((keys) => fc.tuple(...keys.map((key) => shapedValuesOf(defOf(shape[key]), 1).map((v) => [key, v]))))
    .map((entries) => ({ ...base, ...Object.fromEntries(entries as [string, unknown][]) }));
}

/** What a parse decides, in comparable form. */
function outcome(schema: z.core.$ZodType, value: unknown) {
  const result = z.safeParse(schema, value);
  return result.success
    ? { success: true, data: result.data }
    : {
        success: false,
        issues: result.error.issues.map(({ code, path, message }) => ({ code, path, message })),
      };
}

const schemas = functions.flatMap((fn) =>
  [
    ['body', fn.docs.body],
    ['query', fn.docs.query],
  ]
    .filter((entry): entry is [string, z.core.$ZodType] => entry[1] !== undefined)
    .map(([kind, schema]) => ({
      name: `${fn.name} ${kind}`,
      schema,
      base: kind === 'body' ? baseFor(fn.name) : undefined,
    })),
);

describe('compiled request schemas', () => {
  it('covers every route with a body or query schema', () => {
    assert.ok(schemas.length >= 20, `${schemas.length} schemas`);
  });

  for (const { name, schema, base } of schemas) {
    it(`${name}: the compiled schema decides and outputs what the interpreted one does`, () => {
      const compiled = z.compile(schema);
      let accepted = 0;
      fc.assert(
        fc.property(base ? fc.oneof(valuesOf(schema), overlaidValuesOf(schema, base)) : valuesOf(schema), (value) => {
          const expected = outcome(schema, value);
          if (expected.success) accepted++;
          assert.deepEqual(outcome(compiled, value), expected);
        }),
        { numRuns: 300 },
      );
      // A generator that only ever produced refusals would leave the compiled fast path untested.
      if (defOf(schema).type === 'object') assert.ok(accepted >= 5, `${name}: ${accepted} generated values accepted`);
    });
  }
});

/**
 * The model and tokenizer routes' schemas compile whole: no part of them left to zod's interpreter (a "runtime
 * island", which zod/v4/core/compile.js emits for what its code generator cannot model — a `z.describe` check made
 * every such field one, run through the interpreter on every request). zod marks a parser holding an island
 * `definite: false`. The list routes' coerced `limit` and the metadata records' size check stay islands.
 */
describe('compiled request schemas: the hot routes have no interpreted islands', () => {
  const hot =
    /^(chatCompletions|completions|embeddings|azure(V1)?(ChatCompletions|Completions|Embeddings)|tokenize|detokenize|postMessage)$/;
  const hotSchemas = functions
    .filter((fn) => hot.test(fn.name))
    .flatMap((fn) => [fn.docs.body, fn.docs.query].filter((s) => s !== undefined).map((s) => [fn.name, s] as const));

  it('covers the model and tokenizer routes', () => assert.ok(hotSchemas.length >= 12, `${hotSchemas.length}`));

  for (const [name, schema] of hotSchemas) {
    it(`${name}: compiled whole`, () => {
      const compiled = z.compile(schema) as unknown as { _zod: { bag: { validator?: { definite?: boolean } } } };
      assert.notEqual(compiled, schema, 'not compiled at all');
      assert.equal(compiled._zod.bag.validator?.definite, true, 'a part of it runs through the interpreter');
    });
  }

  it('a z.describe check is what made an island (the rule the lint forbids)', () => {
    // eslint-disable-next-line no-restricted-properties -- the construct the rule forbids, shown to make an island
    const described = z.object({ n: z.optional(z.int().check(z.gte(1), z.describe('how many'))) });
    const registered = z.object({
      n: z.optional(z.int().check(z.gte(1)).register(z.globalRegistry, { description: 'how many' })),
    });
    const definite = (s: z.core.$ZodType) =>
      (z.compile(s) as unknown as { _zod: { bag: { validator?: { definite?: boolean } } } })._zod.bag.validator
        ?.definite;
    assert.equal(definite(described), false);
    assert.equal(definite(registered), true);
    const properties = z.toJSONSchema(registered).properties as Record<string, { description?: string }>;
    assert.equal(properties.n?.description, 'how many');
  });
});

/**
 * JSON Schema for the simulator: the strict-mode check Azure/OpenAI apply to `response_format.json_schema` and
 * strict function parameters, and a deterministic instance generator whose output validates against the schema.
 * Strings are taken from the user's words where the schema allows free text.
 */
import { hash } from './generate.js';

type Schema = Record<string, any>;

/**
 * Keywords strict mode rejects (OpenAI, "Structured Outputs", supported schemas). String/number/array limits
 * (pattern, format, minimum, minItems …) are accepted, as OpenAI now accepts them and zod emits them.
 */
const STRICT_UNSUPPORTED = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'unevaluatedProperties',
  'propertyNames',
  'dependentRequired',
  'dependentSchemas',
  'unevaluatedItems',
  'contains',
  'minContains',
  'maxContains',
];
const TYPES = new Set(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']);

/** The first strict-mode violation, in OpenAI's words ("In context=(…), …"), or null when the schema is fine. */
export function strictSchemaProblem(root: unknown): string | null {
  if (!isObject(root))
    return 'In context=(), schema must be a JSON Schema of \'type: "object"\', got \'type: "None"\'.';
  if (root.type !== 'object' || root.anyOf) {
    return `In context=(), schema must be a JSON Schema of 'type: "object"', got 'type: "${root.type ?? 'None'}"'.`;
  }
  const seen = new Set<unknown>();
  const walk = (node: unknown, context: string[]): string | null => {
    if (!isObject(node) || seen.has(node)) return null;
    seen.add(node);
    const where = `In context=(${context.map((c) => `'${c}'`).join(', ')})`;
    for (const keyword of STRICT_UNSUPPORTED) if (keyword in node) return `${where}, '${keyword}' is not permitted.`;
    if (node.$ref !== undefined) {
      if (typeof node.$ref !== 'string' || resolveRef(root, node.$ref) === undefined)
        return `${where}, reference '${node.$ref}' can't be resolved.`;
      return null;
    }
    const types: unknown[] = Array.isArray(node.type) ? node.type : node.type === undefined ? [] : [node.type];
    for (const t of types)
      if (typeof t !== 'string' || !TYPES.has(t)) return `${where}, '${String(t)}' is not a valid type.`;
    if (types.length === 0 && !node.anyOf && !('enum' in node) && !('const' in node)) {
      return `${where}, schema must have a 'type' key.`;
    }
    if (types.includes('object')) {
      const properties = isObject(node.properties) ? node.properties : {};
      if (node.additionalProperties !== false)
        return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
      const required: unknown[] = Array.isArray(node.required) ? node.required : [];
      const missing = Object.keys(properties).filter((k) => !required.includes(k));
      if (missing.length || (!Array.isArray(node.required) && Object.keys(properties).length)) {
        return `${where}, 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
      }
      for (const [key, value] of Object.entries(properties)) {
        const problem = walk(value, [...context, 'properties', key]);
        if (problem) return problem;
      }
    }
    if (types.includes('array') && node.items !== undefined) {
      const problem = walk(node.items, [...context, 'items']);
      if (problem) return problem;
    }
    if (node.anyOf !== undefined) {
      if (!Array.isArray(node.anyOf)) return `${where}, 'anyOf' must be an array.`;
      for (const [i, branch] of node.anyOf.entries()) {
        const problem = walk(branch, [...context, 'anyOf', String(i)]);
        if (problem) return problem;
      }
    }
    for (const defs of ['$defs', 'definitions']) {
      if (!isObject(node[defs])) continue;
      for (const [key, value] of Object.entries(node[defs])) {
        const problem = walk(value, [...context, defs, key]);
        if (problem) return problem;
      }
    }
    return null;
  };
  return walk(root, []);
}

const isObject = (x: unknown): x is Schema => typeof x === 'object' && x !== null && !Array.isArray(x);

function resolveRef(root: Schema, ref: string): Schema | undefined {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) ? node[key] : Array.isArray(node) ? node[Number(key)] : undefined;
  }
  return isObject(node) ? node : undefined;
}

const STOPWORDS = new Set(
  (
    'a an and are as at be but by can could do does for from get give how i in is it its me my of on or our please ' +
    'show tell that the their them then there these this to us want was we what whats when where which who why will ' +
    'with would you your about into like just also some any all need find call use using now today'
  ).split(' '),
);

/** Candidate string values from the user's words: quoted text, then capitalised names, then other content words. */
export function wordsOf(text: string): string[] {
  const quoted = [...text.matchAll(/["“'‘]([^"”'’]{2,80})["”'’]/g)].map((m) => m[1]!.trim());
  const names = [...text.matchAll(/(?<![.!?]\s|^)\b(\p{Lu}[\p{L}\p{N}-]*(?:\s+\p{Lu}[\p{L}\p{N}-]*)*)/gu)].map(
    (m) => m[1]!,
  );
  const words = (text.match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []).filter(
    (w) => !STOPWORDS.has(w.toLowerCase().replace(/'s$/, '')) && w.length > 1,
  );
  return [...new Set([...quoted, ...names.filter((n) => !STOPWORDS.has(n.toLowerCase())), ...words])];
}

export interface FillContext {
  /** The last user message, from which string and number values are drawn. */
  text: string;
  /** Mixed into every choice, so different requests get different (but repeatable) values. */
  seed: string;
}

/** A value that validates against `schema` (resolved against `root` for $ref), deterministic for the context. */
export function instanceOf(schema: unknown, context: FillContext, root: unknown = schema): unknown {
  const words = wordsOf(context.text);
  const numbers = (context.text.match(/-?\d+(?:\.\d+)?/g) ?? []).map(Number);
  let nextWord = 0;
  let nextNumber = 0;

  const fill = (node: unknown, key: string, depth: number): unknown => {
    if (!isObject(node)) return null;
    if (typeof node.$ref === 'string')
      return depth > 12 ? null : fill(resolveRef(root as Schema, node.$ref), key, depth + 1);
    if ('const' in node) return node.const;
    if (Array.isArray(node.enum) && node.enum.length) return pickEnum(node.enum, key);
    const branches = node.anyOf ?? node.oneOf;
    if (Array.isArray(branches) && branches.length) {
      // Deep in a recursive schema, prefer the branch that ends it (null, or a scalar).
      const ending = branches.find(
        (b: unknown) =>
          isObject(b) && (b.type === 'null' || (typeof b.type === 'string' && !['object', 'array'].includes(b.type))),
      );
      const chosen =
        depth > 4 && ending
          ? ending
          : (branches.find((b: unknown) => !(isObject(b) && b.type === 'null')) ?? branches[0]);
      return fill(chosen, key, depth + 1);
    }
    if (Array.isArray(node.allOf))
      return fill(Object.assign({}, ...node.allOf.map((s: unknown) => (isObject(s) ? s : {}))), key, depth + 1);
    const types: string[] = Array.isArray(node.type)
      ? node.type
      : node.type
        ? [node.type]
        : node.properties
          ? ['object']
          : ['string'];
    const nonNull = types.filter((t) => t !== 'null');
    const type = depth > 6 && types.includes('null') ? 'null' : (nonNull[0] ?? 'null');
    switch (type) {
      case 'null':
        return null;
      case 'boolean':
        return hash(`${context.seed}:${key}`) % 2 === 0;
      case 'integer':
      case 'number':
        return numberFor(node, type === 'integer');
      case 'string':
        return stringFor(node, key);
      case 'array': {
        const min = Number(node.minItems ?? 0);
        const max = Number(node.maxItems ?? Infinity);
        const count = Math.min(max, Math.max(min, depth > 4 ? 0 : 2));
        const items = Array.isArray(node.prefixItems) ? node.prefixItems : null;
        const out = Array.from({ length: items ? items.length : count }, (_, i) =>
          fill(items ? items[i] : (node.items ?? {}), `${key}.${i}`, depth + 1),
        );
        return node.uniqueItems ? [...new Map(out.map((v) => [JSON.stringify(v), v])).values()] : out;
      }
      default: {
        const properties: Schema = isObject(node.properties) ? node.properties : {};
        const out: Record<string, unknown> = {};
        for (const [name, sub] of Object.entries(properties)) out[name] = fill(sub, name, depth + 1);
        return out;
      }
    }
  };

  const pickEnum = (values: unknown[], key: string) => {
    const lower = context.text.toLowerCase();
    return (
      values.find((v) => typeof v === 'string' && v && lower.includes(v.toLowerCase())) ??
      values[hash(`${context.seed}:${key}`) % values.length]
    );
  };

  const numberFor = (node: Schema, integer: boolean): number => {
    const lo =
      typeof node.exclusiveMinimum === 'number'
        ? node.exclusiveMinimum + (integer ? 1 : 0.5)
        : typeof node.minimum === 'number'
          ? node.minimum
          : -Infinity;
    const hi =
      typeof node.exclusiveMaximum === 'number'
        ? node.exclusiveMaximum - (integer ? 1 : 0.5)
        : typeof node.maximum === 'number'
          ? node.maximum
          : Infinity;
    const step = typeof node.multipleOf === 'number' && node.multipleOf > 0 ? node.multipleOf : integer ? 1 : 0;
    const fits = (n: number) =>
      n >= lo &&
      n <= hi &&
      (!integer || Number.isInteger(n)) &&
      (!step || Number.isInteger(Number((n / step).toFixed(9))));
    const fromText = numbers.slice(nextNumber).find(fits);
    if (fromText !== undefined) {
      nextNumber = numbers.indexOf(fromText, nextNumber) + 1;
      return fromText;
    }
    let n = Math.min(Math.max(1 + (hash(`${context.seed}:${nextNumber++}`) % 10), lo), hi);
    if (step) n = Math.ceil(n / step) * step;
    if (integer) n = Math.ceil(n);
    return fits(n) ? n : Number.isFinite(lo) ? lo : Number.isFinite(hi) ? hi : 0;
  };

  const stringFor = (node: Schema, key: string): string => {
    const h = hash(`${context.seed}:${key}`);
    const formatted = FORMATS[node.format as string]?.(h);
    let value = formatted ?? fromUser(key) ?? `${key.replace(/\W+/g, ' ').trim() || 'value'} ${(h % 900) + 100}`;
    if (typeof node.pattern === 'string' && !safeTest(node.pattern, value))
      value = PATTERN_GUESSES.find((g) => safeTest(node.pattern, g)) ?? value;
    const min = Number(node.minLength ?? 0);
    const max = Number(node.maxLength ?? Infinity);
    if (value.length > max) value = value.slice(0, max);
    while (value.length < min) value += 'x';
    return value;
  };

  /** A value named by the user ("city: Paris", "name is Ada"), else the next unused candidate word. */
  const fromUser = (key: string): string | undefined => {
    const label = key.replace(/[_-]+/g, '[ _-]?');
    const named = new RegExp(`\\b${label}\\s*(?:[:=]|is|of)\\s*["']?([^,.;"'\\n]{1,60})`, 'i').exec(context.text);
    if (named) return named[1]!.trim();
    if (words.length === 0) return undefined;
    return words[nextWord++ % words.length];
  };

  return fill(schema, 'value', 0);
}

const FORMATS: Record<string, (h: number) => string> = {
  'date-time': (h) => new Date(Date.UTC(2024, 9, 21, h % 24, h % 60)).toISOString().replace('.000', ''),
  date: (h) => `2024-10-${String(1 + (h % 28)).padStart(2, '0')}`,
  time: (h) => `${String(h % 24).padStart(2, '0')}:00:00`,
  email: (h) => `user${h % 1000}@example.com`,
  uri: (h) => `https://example.com/${h % 1000}`,
  uuid: (h) => {
    const hex = (n: number) => (hash(`${h}:${n}`) >>> 0).toString(16).padStart(8, '0');
    const s = hex(1) + hex(2) + hex(3) + hex(4);
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-a${s.slice(17, 20)}-${s.slice(20, 32)}`;
  },
  hostname: (h) => `host${h % 100}.example.com`,
  ipv4: (h) => `10.0.${(h >> 8) % 256}.${h % 256}`,
};

const PATTERN_GUESSES = [
  'abc',
  'ABC',
  '123',
  'a1',
  'abc123',
  '2024-10-21',
  'user@example.com',
  'https://example.com',
  'A',
];

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true;
  }
}

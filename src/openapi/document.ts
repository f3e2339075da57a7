/**
 * The OpenAPI 3.1 document, generated from the function list and the zod schemas each route validates with,
 * so the description cannot drift from the code: a route, body or response that exists is in the document.
 */
import * as z from 'zod/mini';
import type { ApiFunction } from '../http/handler.js';
import { errorBodySchema } from './error-schema.js';

export type JsonSchema = { [key: string]: unknown };

export interface OpenApiDocument {
  openapi: '3.1.0';
  jsonSchemaDialect: string;
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: { url: string; description: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, ResponseObject> };
}

interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

interface ResponseObject {
  description: string;
  content?: Record<string, { schema: JsonSchema }>;
}

interface Operation {
  operationId: string;
  summary: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, ResponseObject | { $ref: string }>;
}

const DIALECT = 'https://json-schema.org/draft/2020-12/schema';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);
const STATUS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No content' };

const pascal = (name: string) => name.replace(/(^|[-_./\s]+)([a-z0-9])/gi, (_, __, c: string) => c.toUpperCase());
const componentRef = (name: string) => `#/components/schemas/${name}`;

/**
 * Collects component schemas: one zod schema (per input/output side) becomes one named component, its `$defs` hoisted
 * beside it.
 */
class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};
  private readonly seen = new Map<z.core.$ZodType, Partial<Record<'input' | 'output', string>>>();

  ref(schema: z.core.$ZodType, io: 'input' | 'output', name: string): JsonSchema {
    const known = this.seen.get(schema)?.[io];
    if (known) return { $ref: componentRef(known) };
    const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
    const { $schema: _dialect, $defs, ...root } = converted;
    const own = this.unusedName(name, io);
    // Claim the name before the defs are placed, so a def cannot take it.
    this.schemas[own] = {};
    const defs = ($defs ?? {}) as Record<string, JsonSchema>;
    // A def identical to a component already there (same schema used by another route) is shared; others get a free
    // name.
    const asIs = new Map(Object.keys(defs).map((d) => [d, d]));
    const renames = new Map<string, string>();
    for (const [defName, def] of Object.entries(defs)) {
      const existing = this.schemas[defName];
      const same = existing !== undefined && JSON.stringify(existing) === JSON.stringify(rewriteRefs(def, own, asIs));
      // zod names anonymous defs (a z.lazy inside the schema) `__schema0`; name them after their owner instead.
      const wanted = /^__schema\d+$/.test(defName) ? `${own}Def${defName.slice(8)}` : defName;
      renames.set(defName, same ? defName : this.unusedName(wanted, io));
      if (!same) this.schemas[renames.get(defName)!] = {};
    }
    for (const [defName, def] of Object.entries(defs))
      this.schemas[renames.get(defName)!] = rewriteRefs(def, own, renames) as JsonSchema;
    this.schemas[own] = rewriteRefs(root, own, renames) as JsonSchema;
    this.seen.set(schema, { ...this.seen.get(schema), [io]: own });
    return { $ref: componentRef(own) };
  }

  private unusedName(name: string, io: 'input' | 'output'): string {
    if (!(name in this.schemas)) return name;
    const sided = `${name}${io === 'input' ? 'Input' : 'Output'}`;
    if (!(sided in this.schemas)) return sided;
    for (let i = 2; ; i++) if (!(`${sided}${i}` in this.schemas)) return `${sided}${i}`;
  }
}

/** `#` (zod's self-reference for recursive schemas) and `#/$defs/X` → component references. */
function rewriteRefs(node: unknown, own: string, renames: Map<string, string>): unknown {
  if (Array.isArray(node)) return node.map((item) => rewriteRefs(item, own, renames));
  if (!node || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') {
      const def = /^#\/\$defs\/(.+)$/.exec(value)?.[1];
      out[key] = value === '#' ? componentRef(own) : def !== undefined ? componentRef(renames.get(def) ?? def) : value;
    } else out[key] = rewriteRefs(value, own, renames);
  }
  return out;
}

interface RouteTemplate {
  path: string;
  params: string[];
}

/**
 * The Functions route template (`v1/conversations/{id}`, `{id:guid}`, `{id?}`) as an OpenAPI path and its parameters.
 */
export function parseRoute(route: string): RouteTemplate {
  const params: string[] = [];
  const path = route
    .split('/')
    .map((segment) => {
      const m = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?\??\}$/.exec(segment);
      if (!m) return segment;
      params.push(m[1]!);
      return `{${m[1]}}`;
    })
    .join('/');
  return { path: `/${path}`, params };
}

function queryParameters(schema: z.core.$ZodType, name: string): Parameter[] {
  const converted = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  const properties = converted.properties as Record<string, JsonSchema> | undefined;
  if (converted.type !== 'object' || !properties)
    throw new Error(`${name}: docs.query must be a zod object of query parameters`);
  const required = new Set((converted.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([param, { description, ...schema }]) => ({
    name: param,
    in: 'query' as const,
    required: required.has(param),
    ...(typeof description === 'string' ? { description } : {}),
    schema,
  }));
}

const isSuccess = (status: string) => /^2\d\d$/.test(status);

export interface BuildOptions {
  /** Where the routes are served: the Functions route prefix, e.g. `/api`. */
  basePath?: string;
}

export function buildOpenApiDocument(functions: readonly ApiFunction[], options: BuildOptions = {}): OpenApiDocument {
  const components = new SchemaComponents();
  components.ref(errorBodySchema, 'output', 'Error');
  const errorResponse = (description: string): ResponseObject => ({
    description,
    content: { 'application/json': { schema: { $ref: componentRef('Error') } } },
  });
  const responses: Record<string, ResponseObject> = {
    BadRequest: errorResponse('A request field is missing or invalid; `error.param` names it.'),
    NotFound: errorResponse('No such resource (or it belongs to another user).'),
    PayloadTooLarge: errorResponse('The request body exceeds the configured limit.'),
    ClientError: errorResponse('The request cannot be served as sent (authentication, rate limit, wrong method, …).'),
    ServerError: errorResponse('The service or its upstream failed; `retry-after` is set when retrying helps.'),
  };

  const paths: OpenApiDocument['paths'] = {};
  const tags = new Set<string>();
  for (const fn of functions) {
    const { path, params } = parseRoute(fn.route);
    const methods = fn.methods.filter((m) => m !== 'OPTIONS');
    const base = pascal(fn.name);
    for (const method of methods) {
      const operationId = methods.length > 1 ? `${fn.name}-${method.toLowerCase()}` : fn.name;
      const parameters: Parameter[] = params.map((name) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      }));
      if (fn.docs.query) parameters.push(...queryParameters(fn.docs.query, fn.name));
      const hasBody = Boolean(fn.docs.body) && BODY_METHODS.has(method);
      const operation: Operation = { operationId, summary: fn.docs.summary, tags: fn.docs.tags, responses: {} };
      if (parameters.length) operation.parameters = parameters;
      if (hasBody && fn.docs.body) {
        operation.requestBody = {
          // A body schema that accepts nothing at all makes the body optional.
          required: !z.safeParse(fn.docs.body, undefined).success,
          content: { 'application/json': { schema: components.ref(fn.docs.body, 'input', `${base}Request`) } },
        };
      }
      const documented = Object.entries(fn.docs.responses ?? {});
      const successes = documented.filter(([status]) => isSuccess(status));
      for (const [status, spec] of documented) {
        const code = Number(status);
        if (typeof spec === 'string') {
          operation.responses[status] = { description: spec };
        } else {
          const name = successes.length > 1 || !isSuccess(status) ? `${base}Response${status}` : `${base}Response`;
          operation.responses[status] = {
            description: z.globalRegistry.get(spec)?.description ?? STATUS_TEXT[code] ?? `HTTP ${status}`,
            content: { 'application/json': { schema: components.ref(spec, 'output', name) } },
          };
        }
      }
      if (!successes.length)
        operation.responses['200'] = { description: 'Success (this route documents no response schema).' };
      if (fn.docs.streams) {
        const ok = (operation.responses['200'] ??= { description: 'OK' }) as ResponseObject;
        ok.content = {
          ...ok.content,
          'text/event-stream': {
            schema: {
              type: 'string',
              description:
                'When the body asks for `stream: true`: Server-Sent Events, one `data: {json chunk}` per event, ending with `data: [DONE]`. A failure after the stream began is an `event: error` whose data is the error body.',
            },
          },
        };
      }
      const errors: Record<string, { $ref: string }> = {};
      if (hasBody || fn.docs.query || params.length) errors['400'] = { $ref: '#/components/responses/BadRequest' };
      if (params.length) errors['404'] = { $ref: '#/components/responses/NotFound' };
      if (hasBody) errors['413'] = { $ref: '#/components/responses/PayloadTooLarge' };
      errors['4XX'] = { $ref: '#/components/responses/ClientError' };
      errors['5XX'] = { $ref: '#/components/responses/ServerError' };
      for (const [status, ref] of Object.entries(errors)) operation.responses[status] ??= ref;
      fn.docs.tags.forEach((tag) => tags.add(tag));
      const item = (paths[path] ??= {});
      const key = method.toLowerCase();
      if (item[key])
        throw new Error(`${method} ${path} is defined twice (${item[key].operationId} and ${operationId})`);
      // Responses last, as readers expect: parameters, body, then answers.
      const { responses: answers, ...head } = operation;
      item[key] = { ...head, responses: answers };
    }
  }

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: DIALECT,
    info: {
      title: 'Azure OpenAI Functions API',
      version: 'v1',
      description:
        "OpenAI-compatible REST API in front of Azure OpenAI: completions, chat, embeddings, tokenization and server-side conversations. The official `openai` client works with `baseURL` set to this server's `/v1`. Conversations belong to the caller named by App Service authentication (`x-ms-client-principal-id`).",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: options.basePath ?? '/api', description: 'This deployment' }],
    tags: [...tags].sort().map((name) => ({ name })),
    paths,
    components: { schemas: components.schemas, responses },
  };
}

/**
 * Routes whose success answer has no documented body schema (a plain description only, or nothing; `204` needs none).
 */
export function routesWithoutResponseSchema(functions: readonly ApiFunction[]): string[] {
  return functions
    .filter(
      (fn) =>
        !Object.entries(fn.docs.responses ?? {}).some(
          ([status, spec]) => isSuccess(status) && (typeof spec !== 'string' || status === '204'),
        ),
    )
    .map((fn) => `${fn.methods.filter((m) => m !== 'OPTIONS').join(',')} /${fn.route}`);
}

/**
 * Tool (and legacy function) calling for the simulator: which tools a request offers, whether the "model" calls
 * them, with what arguments, and the text it answers once tool results are in.
 *
 * The rule for `tool_choice: "auto"` (the default when tools are given): when the last message is the user's,
 * every tool whose name (`get_weather`, or "get weather") or a word of four letters or more from its description
 * appears in that message is called — all of them when `parallel_tool_calls` is not false, else the first.
 * `"required"` calls the matching tools, or the first tool when none matches; a named function is always called;
 * `"none"` never calls. Arguments are JSON valid against the function's parameters, strings drawn from the user's
 * words.
 */
import { instanceOf, strictSchemaProblem } from './json-schema.js';
import { hash } from './generate.js';

/** A caller mistake the simulator answers with a 400 in Azure's error shape. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: string = 'invalid_request_error',
  ) {
    super(message);
  }
}

export interface ToolSpec {
  name: string;
  description: string;
  parameters: unknown;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string };

export interface ToolSetup {
  tools: ToolSpec[];
  choice: ToolChoice;
  /** True for the deprecated `functions`/`function_call` form, answered with `function_call`. */
  legacy: boolean;
  parallel: boolean;
}

export interface PlannedCall {
  id: string;
  name: string;
  arguments: string;
}

interface Message {
  role: string;
  content?: unknown;
  name?: string;
  tool_call_id?: string;
  tool_calls?: { id?: string; function?: { name?: string } }[];
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Reads and checks `tools`/`tool_choice` (or `functions`/`function_call`); null when the request offers none. */
export function readTools(body: any): ToolSetup | null {
  if (body.tools !== undefined && body.tools !== null && body.functions !== undefined && body.functions !== null) {
    throw new BadRequest("Invalid request: 'tools' and 'functions' cannot both be set; use 'tools'.", 'functions');
  }
  const legacy = body.functions !== undefined && body.functions !== null;
  const list: unknown = legacy ? body.functions : body.tools;
  const field = legacy ? 'functions' : 'tools';
  const choiceField = legacy ? 'function_call' : 'tool_choice';
  const rawChoice = legacy ? body.function_call : body.tool_choice;
  if (list === undefined || list === null) {
    if (rawChoice !== undefined && rawChoice !== null && rawChoice !== 'none') {
      throw new BadRequest(
        `Invalid value for '${choiceField}': '${choiceField}' is only allowed when '${field}' are specified.`,
        choiceField,
      );
    }
    return null;
  }
  if (!Array.isArray(list))
    throw new BadRequest(`Invalid type for '${field}': expected an array.`, field, 'invalid_type');
  if (list.length === 0)
    throw new BadRequest(
      `Invalid '${field}': empty array. Expected an array with minimum length 1.`,
      field,
      'empty_array',
    );
  if (list.length > 128)
    throw new BadRequest(
      `Invalid '${field}': array too long. Expected an array with maximum length 128.`,
      field,
      'array_above_max_length',
    );
  const tools = list.map((item: any, i: number): ToolSpec => {
    const at = legacy ? `functions[${i}]` : `tools[${i}].function`;
    const fn = legacy ? item : item?.function;
    if (!legacy && item?.type !== 'function')
      throw new BadRequest(
        `Invalid value for 'tools[${i}].type': expected 'function'.`,
        `tools[${i}].type`,
        'invalid_value',
      );
    if (!fn || typeof fn.name !== 'string' || !NAME.test(fn.name)) {
      throw new BadRequest(
        `Invalid '${at}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`,
        `${at}.name`,
        'invalid_value',
      );
    }
    const parameters = fn.parameters ?? { type: 'object', properties: {} };
    if (fn.strict === true) {
      const problem = strictSchemaProblem(parameters);
      if (problem)
        throw new BadRequest(
          `Invalid schema for function '${fn.name}': ${problem}`,
          `${at}.parameters`,
          'invalid_function_parameters',
        );
    }
    return { name: fn.name, description: typeof fn.description === 'string' ? fn.description : '', parameters };
  });
  let choice: ToolChoice = 'auto';
  if (rawChoice === 'none' || rawChoice === 'auto' || (!legacy && rawChoice === 'required')) choice = rawChoice;
  else if (rawChoice !== undefined && rawChoice !== null) {
    const named = legacy ? rawChoice?.name : rawChoice?.type === 'function' ? rawChoice.function?.name : undefined;
    if (typeof named !== 'string')
      throw new BadRequest(`Invalid value for '${choiceField}'.`, choiceField, 'invalid_value');
    if (!tools.some((t) => t.name === named)) {
      throw new BadRequest(
        `Invalid value for '${choiceField}': no function named '${named}' was specified in the '${field}' parameter.`,
        choiceField,
        'invalid_value',
      );
    }
    choice = { name: named };
  }
  return { tools, choice, legacy, parallel: !legacy && body.parallel_tool_calls !== false };
}

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((p: any) => (typeof p?.text === 'string' ? p.text : '')).join('\n')
      : '';

const wordSet = (text: string) =>
  new Set((text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).map((w) => w.replace(/s$/, '')));

/** Whether the user's message names this tool or a word of its description (the documented auto rule). */
export function mentions(tool: ToolSpec, userText: string): boolean {
  const lower = userText.toLowerCase();
  const spaced = tool.name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase()
    .trim();
  if (lower.includes(tool.name.toLowerCase()) || (spaced && lower.includes(spaced))) return true;
  const said = wordSet(userText);
  return [...wordSet(tool.description)].some((w) => w.length >= 4 && !COMMON.has(w) && said.has(w));
}

const COMMON = new Set([
  'that',
  'this',
  'with',
  'from',
  'have',
  'what',
  'when',
  'where',
  'which',
  'will',
  'your',
  'about',
  'given',
  'return',
  'returns',
  'user',
  'function',
  'tool',
  'value',
  'into',
  'them',
  'their',
  'there',
  'should',
  'would',
  'could',
]);

/** The calls the "model" makes for this request (empty: it answers in text). Deterministic for the request. */
export function planCalls(setup: ToolSetup, messages: Message[]): PlannedCall[] {
  if (setup.choice === 'none') return [];
  const last = messages.at(-1);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const userText = textOf(lastUser?.content);
  let chosen: ToolSpec[];
  if (typeof setup.choice === 'object') {
    const name = setup.choice.name;
    chosen = setup.tools.filter((t) => t.name === name).slice(0, 1);
  } else {
    // Once results are in (the last message is a tool's), an auto model answers instead of calling again.
    if (setup.choice === 'auto' && last?.role !== 'user') return [];
    const matching = setup.tools.filter((t) => mentions(t, userText));
    chosen = matching.length ? matching : setup.choice === 'required' ? setup.tools.slice(0, 1) : [];
    if (!setup.parallel) chosen = chosen.slice(0, 1);
  }
  const transcript = messages.map((m) => `${m.role}:${textOf(m.content)}`).join('\n');
  return chosen.map((tool, i) => ({
    id: callId(`${transcript}:${tool.name}:${i}`),
    name: tool.name,
    arguments: JSON.stringify(instanceOf(tool.parameters, { text: userText, seed: tool.name })),
  }));
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function callId(key: string): string {
  let id = 'call_';
  for (let i = 0; i < 24; i++) id += BASE62[hash(`${i}:${key}`) % 62];
  return id;
}

/**
 * After tool (or function) results, the answer quotes them: "get_weather returned: {…}." — null when the
 * messages since the user's last one hold no results.
 */
export function answerFromResults(messages: Message[]): string | null {
  const lastUserAt = messages.map((m) => m.role).lastIndexOf('user');
  const names = new Map<string, string>();
  for (const m of messages)
    for (const call of m.tool_calls ?? []) if (call.id && call.function?.name) names.set(call.id, call.function.name);
  const results = messages
    .slice(lastUserAt + 1)
    .filter((m) => m.role === 'tool' || m.role === 'function')
    .map((m) => {
      const name = m.role === 'function' ? m.name : names.get(m.tool_call_id ?? '');
      const content = textOf(m.content).trim();
      return `${name ?? 'The tool'} returned: ${content.length > 400 ? `${content.slice(0, 400)}…` : content}`;
    });
  return results.length ? `Here is what I found. ${results.join(' ')}` : null;
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as z from 'zod/mini';
import { ApiError, fromZodError, paramPath } from '../../src/http/errors.js';
import { parseWith } from '../../src/http/request.js';
import { chatCompletionRequestSchema } from '../../src/schemas/chat.js';

/**
 * The OpenAI-shaped error body a request body produces, as the route would answer it. This file loads no classic
 * zod, so the English messages asserted here come from the locale the request path sets up for zod/mini.
 */
function errorFor(schema: z.core.$ZodType, body: unknown) {
  try {
    parseWith(schema, body);
  } catch (error) {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    return error.toBody().error;
  }
  assert.fail('the body should be refused');
}

describe('paramPath', () => {
  it("writes a zod path in OpenAI's param notation", () => {
    assert.equal(paramPath(['messages', 0, 'content']), 'messages[0].content');
    assert.equal(paramPath(['messages', 2, 'content', 1, 'image_url', 'url']), 'messages[2].content[1].image_url.url');
    assert.equal(paramPath(['logit_bias', '50256']), 'logit_bias.50256');
    assert.equal(paramPath(['input', 0, 3]), 'input[0][3]');
    assert.equal(paramPath([0, 'text']), '[0].text');
  });

  it('is null for the body itself', () => {
    assert.equal(paramPath([]), null);
  });
});

describe('fromZodError', () => {
  it('names a missing required field as missing_required_parameter', () => {
    assert.deepEqual(errorFor(chatCompletionRequestSchema, {}), {
      message: "Invalid value for 'messages': Invalid input: expected array, received undefined",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
    });
  });

  it('names an out-of-range field as invalid_value', () => {
    const error = errorFor(chatCompletionRequestSchema, {
      messages: [{ role: 'user', content: 'hi' }],
      temperature: 3,
    });
    assert.deepEqual(error, {
      message: "Invalid value for 'temperature': Too big: expected number to be <=2",
      type: 'invalid_request_error',
      param: 'temperature',
      code: 'invalid_value',
    });
  });

  it('follows a discriminated union into the branch the role chose', () => {
    const error = errorFor(chatCompletionRequestSchema, {
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'tool', content: 'x' },
      ],
    });
    assert.equal(error.param, 'messages[1].tool_call_id');
    assert.equal(error.code, 'missing_required_parameter');
  });

  it('reports the union branch that got furthest: a content array, not "expected string"', () => {
    const error = errorFor(chatCompletionRequestSchema, { messages: [{ role: 'user', content: [{ type: 'text' }] }] });
    assert.deepEqual(error, {
      message: "Invalid value for 'messages[0].content[0].text': Invalid input: expected string, received undefined",
      type: 'invalid_request_error',
      param: 'messages[0].content[0].text',
      code: 'missing_required_parameter',
    });
  });

  it('among equally wrong branches reports the first (string content)', () => {
    const error = errorFor(chatCompletionRequestSchema, { messages: [{ role: 'user', content: 5 }] });
    assert.deepEqual(error, {
      message: "Invalid value for 'messages[0].content': Invalid input: expected string, received number",
      type: 'invalid_request_error',
      param: 'messages[0].content',
      code: 'invalid_value',
    });
  });

  it('reports a nested union branch that matched its type over one that did not', () => {
    const schema = z.object({ stop: z.union([z.string(), z.array(z.string()).check(z.maxLength(2))]) });
    const error = errorFor(schema, { stop: ['a', 'b', 'c'] });
    assert.equal(error.param, 'stop');
    assert.equal(error.message, "Invalid value for 'stop': Too big: expected array to have <=2 items");
  });

  it('has no param when the body itself is wrong', () => {
    assert.deepEqual(errorFor(chatCompletionRequestSchema, 'not an object'), {
      message: 'Invalid request body: Invalid input: expected object, received string',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_value',
    });
  });

  it('answers an error with no issues generically', () => {
    assert.deepEqual(fromZodError(new z.core.$ZodError([])).toBody().error, {
      message: 'Invalid request body.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_value',
    });
  });
});

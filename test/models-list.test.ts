/** GET /v1/models and /v1/models/{id} with the official `openai` client: the configured deployment aliases. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { NotFoundError } from 'openai';
import { isErrorShape, startStack, type Stack } from './helpers/stack.js';

let stack: Stack;
let client: OpenAI;
before(async () => {
  stack = await startStack({
    simulator: true,
    env: {
      AZURE_OPENAI_CHAT_DEPLOYMENTS: 'gpt-4o-mini,gpt-4o',
      AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: 'gpt-35-turbo-instruct',
      AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: 'text-embedding-3-small,gpt-4o',
    },
  });
  client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: 'not-needed', maxRetries: 0 });
});
after(async () => stack?.stop());

describe('models', () => {
  it("models.list() gives every configured alias once, in OpenAI's model shape", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      // OpenAI's model object: id, object "model", created, owned_by.
      assert.equal(model.object, 'model');
      assert.equal(typeof model.created, 'number');
      assert.equal(typeof model.owned_by, 'string');
      ids.push(model.id);
    }
    assert.deepEqual(ids, ['gpt-4o-mini', 'gpt-4o', 'gpt-35-turbo-instruct', 'text-embedding-3-small']);
  });

  it('models.retrieve() names the capabilities; an unknown id is a 404 in the error shape', async () => {
    const model = (await client.models.retrieve('gpt-4o')) as OpenAI.Models.Model & { capabilities: string[] };
    assert.equal(model.id, 'gpt-4o');
    assert.deepEqual(model.capabilities, ['chat', 'embeddings']);
    await assert.rejects(client.models.retrieve('no-such-model'), (e) => e instanceof NotFoundError);
    const res = await fetch(`${stack.url}/v1/models/no-such-model`);
    assert.equal(res.status, 404);
    const body = await res.json();
    assert.ok(isErrorShape(body));
    assert.equal(body.error.code, 'model_not_found');
  });
});

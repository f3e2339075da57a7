/**
 * Responses API items ↔ chat completions messages. Item shapes per OpenAI's Responses API reference
 * (https://platform.openai.com/docs/api-reference/responses/create), chat shapes per Azure OpenAI 2024-10-21.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { itemPage } from '../../src/functions/responses.js';
import { chatMessages, inputItems, isPlainMessage, parseItemId, responseItemIds } from '../../src/responses/items.js';

const ids = (type: string, i: number) => `${type}_${i}`;

describe('items → chat messages', () => {
  it('a string input is one user message; developer becomes system (2024-10-21 has no developer role)', () => {
    assert.deepEqual(chatMessages(inputItems('hi', ids)), [{ role: 'user', content: 'hi' }]);
    const items = inputItems(
      [
        { role: 'developer', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'a' },
            { type: 'input_text', text: 'b' },
          ],
        },
      ],
      ids,
    );
    assert.deepEqual(chatMessages(items), [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'ab' },
    ]);
  });

  it('consecutive function calls become one assistant message with tool_calls; outputs become tool messages', () => {
    const items = inputItems(
      [
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
        { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{"x":1}' },
        { type: 'function_call_output', call_id: 'c1', output: 'one' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
      ],
      ids,
    );
    assert.deepEqual(chatMessages(items), [
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'g', arguments: '{"x":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
    ]);
  });

  it('an image part keeps the user content as parts', () => {
    const items = inputItems(
      [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'what?' },
            { type: 'input_image', image_url: 'https://x/y.png' },
          ],
        },
      ],
      ids,
    );
    assert.deepEqual(chatMessages(items), [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what?' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        ],
      },
    ]);
    assert.equal(isPlainMessage(items[0]!), false);
    assert.equal(isPlainMessage(inputItems('plain', ids)[0]!), true);
  });
});

describe('item ids', () => {
  it('name their response and place, so an item_reference needs one read', () => {
    const responseId = `resp_${'ab'.repeat(16)}`;
    const id = responseItemIds(responseId)('function_call', 3, 'output');
    assert.equal(id, `fc_${'ab'.repeat(16)}_3`);
    assert.deepEqual(parseItemId(id), { responseId, side: 'output', index: 3 });
    assert.deepEqual(parseItemId(responseItemIds(responseId)('message', 0, 'input')), {
      responseId,
      side: 'input',
      index: 0,
    });
    assert.equal(parseItemId('msg_12'), undefined);
    assert.equal(parseItemId(`msg_${'zz'.repeat(16)}_1`), undefined);
  });
});

describe('input_items pages', () => {
  const items = inputItems(
    ['a', 'b', 'c', 'd', 'e'].map((t) => ({ role: 'user' as const, content: t })),
    (_, i) => `msg_x_i${i}`,
  );
  const texts = (page: ReturnType<typeof itemPage>) => page.data.map((i: any) => i.content[0].text).join('');
  it('newest first by default, with after/before cursors and has_more', () => {
    const first = itemPage(items, { limit: 2, order: 'desc' });
    assert.equal(texts(first), 'ed');
    assert.equal(first.has_more, true);
    const next = itemPage(items, { limit: 2, order: 'desc', after: first.last_id! });
    assert.equal(texts(next), 'cb');
    assert.equal(texts(itemPage(items, { limit: 10, order: 'asc', after: 'msg_x_i1' })), 'cde');
    assert.equal(texts(itemPage(items, { limit: 2, order: 'asc', before: 'msg_x_i3' })), 'bc');
    assert.equal(itemPage(items, { limit: 10, order: 'asc' }).has_more, false);
  });
});

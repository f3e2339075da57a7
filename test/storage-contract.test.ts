/**
 * The store contracts: every implementation of QuotaStore and ConversationStore must pass these, whatever keeps
 * the rows (as Hono holds every router to one shared suite). Table implementations run against real Azurite.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAzurite, type Azurite } from '../dev/azurite.js';

let azurite: Azurite;
before(async () => {
  azurite = await startAzurite({ silent: true });
  process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
  process.env.CONVERSATIONS_PER_USER = '3';
});
after(async () => azurite?.stop());

const { MemoryQuotaStore } = await import('../src/storage/memory-quota-store.js');
const { TableQuotaStore } = await import('../src/storage/table-quota-store.js');
const { TableConversationStore } = await import('../src/storage/table-conversation-store.js');
type QuotaStore = import('../src/storage/quota-store.js').QuotaStore;
type ConversationStore = import('../src/storage/conversation-store.js').ConversationStore;

const quotaStores: [string, () => QuotaStore][] = [
  ['MemoryQuotaStore', () => new MemoryQuotaStore()],
  ['TableQuotaStore (Azurite)', () => new TableQuotaStore(`quotas${Date.now()}`)],
];

for (const [name, make] of quotaStores) {
  describe(`QuotaStore contract: ${name}`, () => {
    it('reads a missing counter as 0 and keeps each (partition, window) apart', async () => {
      const store = make();
      assert.equal(await store.read('p', 'w'), 0);
      assert.equal(await store.update('p', 'w', (used) => used + 5), 5);
      assert.equal(await store.update('p', 'w2', (used) => used + 1), 1);
      assert.equal(await store.read('p', 'w'), 5);
      assert.equal(await store.read('q', 'w'), 0);
    });

    it('leaves the counter unchanged when the change throws', async () => {
      const store = make();
      await store.update('p', 'w', () => 7);
      await assert.rejects(
        store.update('p', 'w', () => {
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.equal(await store.read('p', 'w'), 7);
    });

    it('loses no update under concurrency', async () => {
      const store = make();
      await Promise.all(Array.from({ length: 25 }, () => store.update('p', 'c', (used) => used + 1)));
      assert.equal(await store.read('p', 'c'), 25);
    });
  });
}

const conversationStores: [string, () => ConversationStore][] = [
  ['TableConversationStore (Azurite)', () => new TableConversationStore(`conv${Date.now()}`)],
];

for (const [name, make] of conversationStores) {
  describe(`ConversationStore contract: ${name}`, () => {
    it('keeps a conversation to its owner, and appends turns in order', async () => {
      const store = make();
      const created = await store.create('alice', { model: 'gpt-4o-mini', system: 'Be brief.', systemTokens: 7 });
      await assert.rejects(store.get('bob', created.id), (e: any) => e.status === 404);
      let meta = await store.get('alice', created.id);
      assert.equal(meta.system, 'Be brief.');
      await store.appendTurn(meta, { content: 'one', tokens: 4 }, { content: 'two', tokens: 4 });
      meta = await store.get('alice', created.id);
      await store.appendTurn(meta, { content: 'three', tokens: 4 }, { content: 'four', tokens: 4 });
      meta = await store.get('alice', created.id);
      assert.equal(meta.message_count, 4);
      const all = await store.range(meta.id, 1, 4);
      assert.deepEqual(
        all.map((m) => [m.id, m.role, m.content]),
        [
          ['msg_1', 'user', 'one'],
          ['msg_2', 'assistant', 'two'],
          ['msg_3', 'user', 'three'],
          ['msg_4', 'assistant', 'four'],
        ],
      );
      assert.deepEqual(
        (await store.newestWithin(meta, 8)).map((m) => m.content),
        ['three', 'four'],
      );
    });

    it('refuses a turn on a stale version with 409, and one after a delete with 404, storing nothing', async () => {
      const store = make();
      const { id } = await store.create('carol', { model: 'gpt-4o-mini', systemTokens: 0 });
      const stale = await store.get('carol', id);
      await store.appendTurn(stale, { content: 'a', tokens: 1 }, { content: 'b', tokens: 1 });
      await assert.rejects(
        store.appendTurn(stale, { content: 'x', tokens: 1 }, { content: 'y', tokens: 1 }),
        (e: any) => e.status === 409,
      );
      const current = await store.get('carol', id);
      await store.delete('carol', current.id);
      await assert.rejects(
        store.appendTurn(current, { content: 'x', tokens: 1 }, { content: 'y', tokens: 1 }),
        (e: any) => e.status === 404,
      );
      await assert.rejects(store.get('carol', id), (e: any) => e.status === 404);
      assert.deepEqual(await store.range(id, 1, 10), []);
    });

    it('lists newest first in pages that follow `after`, and caps conversations per user', async () => {
      const store = make();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await store.create('dave', { model: 'm', title: `t${i}`, systemTokens: 0 })).id);
        await new Promise((r) => setTimeout(r, 1100)); // created_at has one-second resolution
      }
      await assert.rejects(
        store.create('dave', { model: 'm', systemTokens: 0 }),
        (e: any) => e.status === 403 && e.code === 'conversation_limit_reached',
      );
      const first = await store.list('dave', { limit: 2 });
      assert.deepEqual(
        first.data.map((c) => c.id),
        [ids[2], ids[1]],
      );
      assert.equal(first.hasMore, true);
      const second = await store.list('dave', { limit: 2, after: ids[1] });
      assert.deepEqual(
        second.data.map((c) => c.id),
        [ids[0]],
      );
      assert.equal(second.hasMore, false);
      // Deleting one frees a place under the cap.
      await store.delete('dave', ids[0]!);
      assert.deepEqual(
        (await store.list('dave', { limit: 10 })).data.map((c) => c.id),
        [ids[2], ids[1]],
      );
      await store.create('dave', { model: 'm', systemTokens: 0 });
    });

    it('deletes moving the count once, however many ask at the same time', async () => {
      const store = make();
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await store.create('erin', { model: 'm', systemTokens: 0 })).id);
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => store.delete('erin', ids[0]!)));
      assert.ok(outcomes.some((o) => o.status === 'fulfilled'));
      for (const o of outcomes) if (o.status === 'rejected') assert.equal(o.reason.status, 404);
      await store.create('erin', { model: 'm', systemTokens: 0 });
      await assert.rejects(store.create('erin', { model: 'm', systemTokens: 0 }), (e: any) => e.status === 403);
    });

    it('appends item rows under the version (409 when stale), keeps metadata, and empties a deleted row', async () => {
      const store = make();
      const created = await store.create('fay', { model: 'm', systemTokens: 0, metadata: { a: 'b' } });
      let meta = await store.get('fay', created.id);
      assert.deepEqual(meta.metadata, { a: 'b' });
      const call = { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}', status: 'completed' };
      const stored = await store.appendRows(meta, [
        { role: 'user', content: 'hi', tokens: 4 },
        { role: 'assistant', content: '{}', tokens: 6, item: call },
      ]);
      assert.deepEqual(
        stored.map((m) => m.id),
        ['msg_1', 'msg_2'],
      );
      await assert.rejects(
        store.appendRows(meta, [{ role: 'user', content: 'late', tokens: 1 }]),
        (e: any) => e.status === 409,
      );
      meta = await store.get('fay', created.id);
      assert.equal(meta.message_count, 2);
      const rows = await store.range(meta.id, 1, 2);
      assert.deepEqual(rows[1]!.item, call);
      assert.equal(rows[0]!.item, undefined);
      meta = await store.updateMetadata(meta, { c: 'd' });
      assert.deepEqual((await store.get('fay', created.id)).metadata, { c: 'd' });
      await store.deleteRow(meta, 1);
      const [gone] = await store.range(meta.id, 1, 1);
      assert.equal(gone!.deleted, true);
      assert.equal(gone!.tokens, 0);
      assert.equal((await store.get('fay', created.id)).message_count, 2, 'seqs stay dense');
    });
  });
}

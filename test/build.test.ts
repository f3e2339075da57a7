/**
 * The deployment build: the bundle registers every function of the registry, serves from dist/ alone
 * (token tables and playground found beside it), and the package leaves dev-only code out and stays small.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { functions } from '../src/functions/registry.js';
import { packageFiles } from '../scripts/package.js';

const root = new URL('../', import.meta.url).pathname;

before(() => {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: root, stdio: 'pipe', timeout: 120_000 });
});

describe('deployment build', () => {
  it('registers every function of the registry, with its route and methods, when the Functions worker loads it', () => {
    // Outside a worker, @azure/functions runs in test mode and names each function it would register.
    const run = spawnSync(process.execPath, ['--enable-source-maps', '-e', "import('./dist/index.js')"], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
    const output = run.stdout + run.stderr;
    const registered = [...output.matchAll(/register function "([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(registered, functions.map((f) => f.name).sort());
    const entry = readFileSync(`${root}dist/index.js`, 'utf8');
    for (const f of functions) assert.ok(entry.includes(JSON.stringify(f.route)), `route ${f.route} in the entry`);
  });

  it('serves a request from dist/ alone: the bundled registry finds its token tables', () => {
    const script = `
      const { functions } = await import('./dist/registry.js');
      const fn = functions.find((f) => f.name === 'tokenize');
      const body = new TextEncoder().encode(JSON.stringify({ text: 'tiktoken is great!' }));
      const request = { method: 'POST', url: 'http://x/api/v1/tokenize', headers: new Headers({ 'content-type': 'application/json' }), params: {}, query: new URLSearchParams(),
        body: new ReadableStream({ start(c) { c.enqueue(body); c.close(); } }) };
      const context = { error: console.error, log: console.log, warn: console.warn };
      const response = await fn.handler(request, context);
      console.log(JSON.stringify(response.jsonBody));
      // A large input takes the worker thread, bundled as dist/tokenize-worker.js.
      const big = new TextEncoder().encode(JSON.stringify({ text: 'a'.repeat(70000), count_only: true }));
      const large = await fn.handler({ ...request, body: new ReadableStream({ start(c) { c.enqueue(big); c.close(); } }) }, context);
      console.log(JSON.stringify(large.jsonBody));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const lines = output.trim().split('\n');
    assert.deepEqual(JSON.parse(lines.at(-2)!), { encoding: 'cl100k_base', tokens: [83, 1609, 5963, 374, 2294, 0], count: 6 });
    assert.deepEqual(JSON.parse(lines.at(-1)!), { encoding: 'cl100k_base', count: 8750 });
  });

  it('packages dist/, host.json and package.json only, under 5 MB compressed', () => {
    const files = packageFiles();
    assert.ok(files.includes('host.json') && files.includes('package.json') && files.includes('dist/index.js'));
    for (const file of files) assert.match(file, /^(dist\/|host\.json$|package\.json$|\.funcignore$)/, `${file} must not be deployed`);
    assert.ok(files.some((f) => f.startsWith('dist/tokens/tables/')), 'token tables are deployed');
    assert.ok(!files.some((f) => /simulator|azurite|dev\/|node_modules/.test(f)));
    const compressed = files.reduce((sum, f) => sum + deflateRawSync(readFileSync(`${root}${f}`), { level: 9 }).length, 0);
    assert.ok(compressed < 5 * 1024 * 1024, `${(compressed / 1024 / 1024).toFixed(2)} MB`);
  });
});

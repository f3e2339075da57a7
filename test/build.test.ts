/**
 * The deployment build: the staged artifact (what azd zips, azure.yaml `dist`) holds exactly what runs, starts from
 * a copy with no node_modules in or above it the way the Functions Node worker loads an app (package.json `main`,
 * imported as ESM), registers every function, serves from there alone, and stays small.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { functions } from '../src/functions/registry.js';
import { packageFiles, STAGING_DIR, stagingPath } from '../scripts/package.js';

const root = new URL('../', import.meta.url).pathname;
let app: string; // a copy of the staged artifact, outside the repository

/** How the Functions Node worker starts an app: read package.json `main` in the app root and import it as a URL. */
const workerLoad = `
  const { readFileSync } = await import('node:fs');
  const { pathToFileURL } = await import('node:url');
  const { main } = JSON.parse(readFileSync('package.json', 'utf8'));
  await import(pathToFileURL(main).href);`;

before(() => {
  for (const script of ['scripts/build.ts', 'scripts/package.ts']) {
    execFileSync(process.execPath, ['--import', 'tsx', script, '--stage'], {
      cwd: root,
      stdio: 'pipe',
      timeout: 120_000,
    });
  }
  app = join(mkdtempSync(join(tmpdir(), 'deployed-app-')), 'wwwroot');
  cpSync(stagingPath, app, { recursive: true });
});
after(() => rmSync(dirname(app), { recursive: true, force: true }));

describe('deployment artifact', () => {
  it('is the folder azure.yaml deploys, and holds exactly host.json, a minimal package.json and dist/', () => {
    const service = parseYaml(readFileSync(`${root}azure.yaml`, 'utf8')).services.api;
    assert.equal(`${service.project}/${service.dist}`.replace(/^\.\//, ''), STAGING_DIR);
    const files = packageFiles();
    assert.deepEqual(
      files.filter((f) => !f.startsWith('dist/')),
      ['host.json', 'package.json'],
    );
    assert.ok(
      files.includes('dist/index.js') &&
        files.includes('dist/registry.js') &&
        files.includes('dist/tokenize-worker.js'),
    );
    assert.ok(
      files.some((f) => f.startsWith('dist/tokens/tables/')),
      'token tables are deployed',
    );
    assert.ok(files.includes('dist/playground/index.html'), 'the playground is deployed');
    assert.ok(!files.some((f) => /node_modules|\.funcignore|simulator|azurite|\.ts$/.test(f)), files.join(', '));
    assert.deepEqual(readFileSync(`${stagingPath}host.json`, 'utf8'), readFileSync(`${root}host.json`, 'utf8'));
    const pkg = JSON.parse(readFileSync(`${stagingPath}package.json`, 'utf8'));
    assert.deepEqual(Object.keys(pkg).sort(), ['main', 'name', 'private', 'type', 'version']);
    assert.deepEqual([pkg.type, pkg.main], ['module', 'dist/index.js']);
  });

  it('starts where no node_modules exists in or above it, registering every function with its route', () => {
    for (let dir = app; ; dir = dirname(dir)) {
      assert.ok(!existsSync(join(dir, 'node_modules')), `${dir}/node_modules would hide a missing bundled dependency`);
      if (dir === dirname(dir)) break;
    }
    // Outside a worker, @azure/functions runs in test mode and names each function it would register.
    const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', workerLoad], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const registered = [...(run.stdout + run.stderr).matchAll(/register function "([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(registered, functions.map((f) => f.name).sort());
    const entry = readFileSync(join(app, 'dist/index.js'), 'utf8');
    for (const f of functions) assert.ok(entry.includes(JSON.stringify(f.route)), `route ${f.route} in the entry`);
  });

  it('serves from the copy alone: the bundled registry finds its token tables and worker', () => {
    const script = `
      const { functions } = await import('./dist/registry.js');
      const fn = functions.find((f) => f.name === 'tokenize');
      const body = new TextEncoder().encode(JSON.stringify({ text: 'tiktoken is great!' }));
      const request = { method: 'POST', url: 'http://x/api/v1/tokenize', headers: new Headers({ 'content-type': 'application/json' }), params: {}, query: new URLSearchParams(),
        body: new ReadableStream({ start(c) { c.enqueue(body); c.close(); } }) };
      const context = { error: console.error, log: console.log, warn: console.warn };
      const response = await fn.handler(request, context);
      const bodyOf = (r) => r.jsonBody ?? JSON.parse(Buffer.from(r.body).toString()); // tokenize answers with JSON bytes
      console.log('RESULT ' + JSON.stringify(bodyOf(response)));
      // A large input takes the worker thread, bundled as dist/tokenize-worker.js.
      const big = new TextEncoder().encode(JSON.stringify({ text: 'a'.repeat(70000), count_only: true }));
      const large = await fn.handler({ ...request, body: new ReadableStream({ start(c) { c.enqueue(big); c.close(); } }) }, context);
      console.log('RESULT ' + JSON.stringify(bodyOf(large)));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lines = output
      .split('\n')
      .filter((l) => l.startsWith('RESULT '))
      .map((l) => l.slice(7)); // the app logs too
    assert.deepEqual(JSON.parse(lines.at(-2)!), {
      encoding: 'cl100k_base',
      tokens: [83, 1609, 5963, 374, 2294, 0],
      count: 6,
    });
    assert.deepEqual(JSON.parse(lines.at(-1)!), { encoding: 'cl100k_base', count: 8750 });
  });

  it('without a completions deployment (the Bicep default), /v1/completions answers 404 naming what is configured', () => {
    // The app settings infra/main.bicep writes when completionsModelName is empty.
    const env = {
      ...process.env,
      // Unreachable from here: the 404 must come before any upstream call.
      AZURE_OPENAI_ENDPOINT: 'https://oai-unreachable.openai.azure.com/',
      AZURE_OPENAI_API_KEY: 'not-used',
      AZURE_OPENAI_CHAT_DEPLOYMENTS: 'gpt-5.2',
      AZURE_OPENAI_COMPLETIONS_DEPLOYMENTS: '',
      AZURE_OPENAI_EMBEDDINGS_DEPLOYMENTS: 'text-embedding-3-small',
    };
    const script = `
      const { functions } = await import('./dist/registry.js');
      const fn = functions.find((f) => f.route === 'v1/completions');
      const body = new TextEncoder().encode(JSON.stringify({ prompt: 'Say this is a test' }));
      const request = { method: 'POST', url: 'http://x/api/v1/completions', headers: new Headers({ 'content-type': 'application/json' }),
        params: {}, query: new URLSearchParams(), body: new ReadableStream({ start(c) { c.enqueue(body); c.close(); } }) };
      const response = await fn.handler(request, { error() {}, log() {}, warn() {} });
      console.log(JSON.stringify({ status: response.status, body: response.jsonBody ?? JSON.parse(response.body) }));`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    const { status, body } = JSON.parse(output.trim().split('\n').at(-1)!);
    assert.equal(status, 404);
    assert.equal(body.error.code, 'deployment_not_configured');
    assert.equal(body.error.param, 'model');
    assert.match(
      body.error.message,
      /no completions model configured\. Configured: chat: gpt-5\.2; embeddings: text-embedding-3-small\./,
    );
  });

  it('holds no classic zod (a ~450 KB first-request chunk), and its 400s still read in English', () => {
    // ZodBase64URL is a class only classic zod defines; src/ uses zod/mini, which loads no locale by itself.
    const dist = `${app}/dist/`;
    const classic = readdirSync(dist).filter(
      (f) => f.endsWith('.js') && readFileSync(`${dist}${f}`, 'utf8').includes('ZodBase64URL'),
    );
    assert.deepEqual(classic, []);
    const script = `
      const { handlers } = await import('./dist/index.js');
      const body = new TextEncoder().encode(JSON.stringify({ text: 5 }));
      const request = { method: 'POST', url: 'http://x/api/v1/tokenize', headers: new Headers({ 'content-type': 'application/json' }),
        params: {}, query: new URLSearchParams(), body: new ReadableStream({ start(c) { c.enqueue(body); c.close(); } }) };
      const response = await handlers.get('tokenize')(request, { error() {}, log() {}, warn() {} });
      console.log('RESULT ' + JSON.stringify({ status: response.status, body: response.jsonBody }));
      process.exit(0);`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const result = output.split('\n').find((l) => l.startsWith('RESULT '))!;
    assert.deepEqual(JSON.parse(result.slice(7)), {
      status: 400,
      body: {
        error: {
          message: "Invalid value for 'text': Invalid input: expected string, received number",
          type: 'invalid_request_error',
          param: 'text',
          code: 'invalid_value',
        },
      },
    });
  });

  it('keeps function names (stack traces read without --enable-source-maps, which Azure does not pass)', () => {
    const bicep = readFileSync(`${root}infra/modules/functionapp.bicep`, 'utf8');
    assert.doesNotMatch(bicep, /languageWorkers__node__arguments:.*enable-source-maps/);
    const code = packageFiles()
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(`${stagingPath}${f}`, 'utf8'))
      .join('\n');
    for (const name of ['readBodyText', 'jsonDepthExceeds', 'createUpstreamClient', 'hashBytes'])
      assert.match(code, new RegExp(`\\b${name}\\b\\s*\\(`), `${name} is named in the bundle`);
  });

  it('stays under 5 MB compressed', () => {
    const compressed = packageFiles().reduce(
      (sum, f) => sum + deflateRawSync(readFileSync(`${stagingPath}${f}`), { level: 9 }).length,
      0,
    );
    assert.ok(compressed < 5 * 1024 * 1024, `${(compressed / 1024 / 1024).toFixed(2)} MB`);
  });
});

describe('Node versions', () => {
  it('the bundle targets the Node version Azure runs (functionAppConfig.runtime)', () => {
    const bicep = readFileSync(`${root}infra/modules/functionapp.bicep`, 'utf8');
    const runtime = bicep.match(/runtime: \{ name: 'node', version: '(\d+)' \}/)?.[1];
    assert.ok(runtime, 'functionapp.bicep pins a Node runtime');
    assert.match(readFileSync(`${root}scripts/bundle-options.ts`, 'utf8'), new RegExp(`target: 'node${runtime}'`));
    const engines = JSON.parse(readFileSync(`${root}package.json`, 'utf8')).engines.node;
    assert.ok(semver.satisfies(`${runtime}.0.0`, engines), `engines ${engines} admits Azure's Node ${runtime}`);
  });

  it('every package in the lockfile admits this Node (a fresh install prints no EBADENGINE)', () => {
    // npm warns EBADENGINE when a package's engines.node does not admit the running Node; the lockfile records each.
    const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8'));
    const refuse = Object.entries(lock.packages as Record<string, { engines?: { node?: string } }>)
      .filter(([path, p]) => path && p.engines?.node && !semver.satisfies(process.version, p.engines.node))
      .map(([path, p]) => `${path} (${p.engines!.node})`);
    assert.deepEqual(refuse, [], `refuse Node ${process.version}`);
    assert.ok(semver.satisfies(process.version, lock.packages[''].engines.node), 'the project admits this Node');
  });
});

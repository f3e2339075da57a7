/**
 * `npm start` as a frontend developer meets it (issue 15) and as a signal stops it (issue 14, item 11):
 * - a page on another loopback port (a dev server such as Vite) calls the API from real Chromium under the defaults,
 *   with fetch and with the official `openai` client (bundled for the browser, `dangerouslyAllowBrowser`);
 * - SIGTERM, SIGHUP or SIGINT to the `npm start` process group loses no acknowledged write.
 * Everything runs on free ports with Azurite's data in a temporary folder.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, freePorts } from '../dev/ports.js';
import { logDir } from './helpers/stack.js';

const root = new URL('..', import.meta.url).pathname;
const CHROMIUM = '/usr/bin/chromium';
const dataDir = mkdtempSync(`${tmpdir()}/npm-start-azurite-`);

interface NpmStart {
  url: string;
  child: ChildProcess;
  /** Signals the whole process group, as a terminal or a process manager does, and waits until all of it is gone. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

async function npmStart(): Promise<NpmStart> {
  mkdirSync(logDir, { recursive: true });
  const [port, tablePort, simulatorPort] = (await freePorts(3)) as [number, number, number];
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key]!;
  Object.assign(env, {
    PORT: String(port),
    AZURITE_TABLE_PORT: String(tablePort),
    SIMULATOR_PORT: String(simulatorPort),
    AZURITE_LOCATION: dataDir,
    FUNCTIONS_HOST: 'local',
  });
  // Its own process group (detached), like a terminal's foreground job.
  const child = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(`${logDir}/npm-start-${port}.log`);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`npm start did not start: ${seen}`)), 90_000);
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /API ready at (http:\/\/\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${seen}`)));
  });
  const groupAlive = () => {
    try {
      process.kill(-child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    url,
    child,
    async stop(signal) {
      process.kill(-child.pid!, signal);
      for (let i = 0; i < 600 && groupAlive(); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(groupAlive(), false, `npm start's group exited after ${signal}`);
    },
  };
}

let app: NpmStart;
let browser: Browser;
let pageServer: Server;
let pageOrigin: string;

before(async () => {
  if (!existsSync(CHROMIUM))
    spawnSync('bash', [`${root}scripts/ensure-chromium.sh`], { stdio: 'ignore', timeout: 600_000 });
  assert.ok(existsSync(CHROMIUM), `Debian's chromium is needed at ${CHROMIUM} (scripts/ensure-chromium.sh)`);
  app = await npmStart();
  // The official client, bundled for the browser as a frontend build would.
  const openai = (
    await build({
      stdin: { contents: "export { default as OpenAI } from 'openai';", resolveDir: root },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
    })
  ).outputFiles[0]!.text;
  const html =
    '<!doctype html><title>dev app</title><script type="module">import { OpenAI } from "/openai.js"; window.OpenAI = OpenAI; document.title = "ready";</script>';
  pageServer = createServer((req, res) => {
    if (req.url === '/openai.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(openai);
    res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  const pagePort = await freePort();
  await new Promise<void>((resolve) => pageServer.listen(pagePort, '127.0.0.1', resolve));
  // `localhost`, another port than the API's: a different origin, as a Vite dev server is.
  pageOrigin = `http://localhost:${pagePort}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
after(async () => {
  await browser?.close();
  pageServer?.close();
  if (app && app.child.exitCode === null) await app.stop('SIGINT').catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

async function devPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(pageOrigin);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

describe('a browser app on another loopback port, under npm start defaults (no CORS setting)', () => {
  it('chats, streams, reads a 404 and a malformed path in the error shape, and sees the request ids', async () => {
    const page = await devPage();
    const result = await page.evaluate(async (api) => {
      const headers = { 'content-type': 'application/json', 'x-ms-client-principal-id': 'browser-dev' };
      const messages = [{ role: 'user', content: 'Knock knock.' }];
      const chat = await fetch(`${api}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ messages }),
      });
      const chatBody = await chat.json();
      const stream = await fetch(`${api}/v1/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Count to 5' }], stream: true }),
      });
      const streamText = await stream.text();
      const missing = await fetch(`${api}/v1/no-such-route`, { headers });
      const malformed = await fetch(`${api}/v1/conversations/%E0%A4%A/messages`, { headers });
      return {
        origin: location.origin,
        chat: {
          status: chat.status,
          content: chatBody.choices?.[0]?.message?.content,
          id: chat.headers.get('x-request-id'),
        },
        stream: { status: stream.status, text: streamText, id: stream.headers.get('x-request-id') },
        missing: { status: missing.status, body: await missing.json(), id: missing.headers.get('x-request-id') },
        malformed: { status: malformed.status, body: await malformed.json() },
      };
    }, app.url);
    assert.match(result.origin, /^http:\/\/localhost:\d+$/);
    assert.notEqual(result.origin, new URL(app.url).origin);
    assert.equal(result.chat.status, 200);
    assert.equal(result.chat.content, "Who's there?");
    assert.equal(result.stream.status, 200);
    assert.match(result.stream.text, /"content":"1/);
    assert.match(result.stream.text, /data: \[DONE\]/);
    assert.equal(result.missing.status, 404);
    assert.equal(result.missing.body.error.code, 'route_not_found');
    assert.equal(result.malformed.status, 400);
    assert.equal(result.malformed.body.error.code, 'invalid_path');
    const ids = [result.chat.id, result.stream.id, result.missing.id];
    for (const id of ids) assert.match(id ?? '', /^[0-9a-f-]{36}$/, 'the page can read x-request-id');
    assert.equal(new Set(ids).size, 3);
    await page.close();
  });

  it('the openai client (dangerouslyAllowBrowser) gets answers with _request_id, and completions in all four prompt forms', async () => {
    const page = await devPage();
    const result = await page.evaluate(async (api) => {
      const OpenAI = (window as any).OpenAI;
      const client = new OpenAI({
        baseURL: `${api}/v1`,
        apiKey: 'unused-locally',
        dangerouslyAllowBrowser: true,
        defaultHeaders: { 'x-ms-client-principal-id': 'browser-sdk' },
      });
      const chat = await client.chat.completions.create({ messages: [{ role: 'user', content: 'Knock knock.' }] });
      let streamed = '';
      for await (const chunk of await client.chat.completions.create({
        messages: [{ role: 'user', content: 'Count to 3' }],
        stream: true,
      }))
        streamed += chunk.choices[0]?.delta?.content ?? '';
      const prompts = [
        '1, 2, 3, 4,',
        ['1, 2, 3,', 'a, b,'],
        [16, 11, 220, 17, 11, 220, 18, 11],
        [
          [16, 11, 220, 17, 11],
          [64, 11, 293, 11],
        ],
      ];
      const completions = [];
      for (const prompt of prompts) {
        const c = await client.completions.create({
          model: 'gpt-35-turbo-instruct',
          prompt,
          max_tokens: 5,
          temperature: 0,
        });
        completions.push({ choices: c.choices.length, prompt_tokens: c.usage.prompt_tokens, id: c._request_id });
      }
      let notFound: any;
      try {
        await client.get('/no-such-route');
      } catch (error: any) {
        notFound = {
          status: error.status,
          code: error.code,
          id: error.requestID ?? error.headers?.get?.('x-request-id'),
        };
      }
      return {
        chat: { content: chat.choices[0].message.content, id: chat._request_id },
        streamed,
        completions,
        notFound,
      };
    }, app.url);
    assert.equal(result.chat.content, "Who's there?");
    assert.match(result.chat.id ?? '', /^[0-9a-f-]{36}$/);
    assert.match(result.streamed, /^1, 2, 3/);
    assert.deepEqual(
      result.completions.map((c) => c.choices),
      [1, 2, 1, 2],
    );
    assert.equal(result.completions[2]!.prompt_tokens, 8, 'a token array counts its tokens');
    assert.equal(result.completions[3]!.prompt_tokens, 9);
    for (const c of result.completions) assert.match(c.id ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(
      result.notFound.status,
      404,
      'a missing route is an API error the client reads, not "Connection error."',
    );
    assert.equal(result.notFound.code, 'route_not_found');
    await page.close();
  });

  it('an origin that is not on this machine is still refused', async () => {
    const res = await fetch(`${app.url}/v1/health`, { headers: { origin: 'https://evil.example.com' } });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const local = await fetch(`${app.url}/v1/health`, { headers: { origin: 'http://[::1]:5173' } });
    assert.equal(local.headers.get('access-control-allow-origin'), 'http://[::1]:5173');
  });
});

describe('stopping the npm start group (issue 14, item 11)', () => {
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    it(`${signal} to the group keeps a conversation written just before it`, async () => {
      const headers = { 'content-type': 'application/json', 'x-ms-client-principal-id': `signal-${signal}` };
      const created = await fetch(`${app.url}/v1/conversations`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: signal }),
      });
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      const turn = await fetch(`${app.url}/v1/conversations/${id}/messages`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ content: 'Knock knock.' }),
      });
      assert.equal(turn.status, 200, 'the write is acknowledged');
      await turn.arrayBuffer();
      await app.stop(signal);

      app = await npmStart();
      const history = await fetch(`${app.url}/v1/conversations/${id}/messages?order=asc`, { headers });
      assert.equal(history.status, 200, `the conversation outlived ${signal}`);
      const messages = ((await history.json()) as { data: { role: string; content: string }[] }).data;
      assert.deepEqual(
        messages.map((m) => m.content),
        ['Knock knock.', "Who's there?"],
      );
    });
  }
});

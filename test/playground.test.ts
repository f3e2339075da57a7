/**
 * The playground page in a real browser: headless Chromium (Debian's `chromium`) driven by playwright-core, against
 * the app in the local host with the Azure OpenAI simulator and Azurite. Sends a chat and watches it stream in, checks
 * the live token count and the usage line, runs a seed preset, and keeps a conversation; screenshots go to
 * test-artifacts/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { promptPresets } from '../src/playground/presets.js';
import { isErrorShape, postJson, startStack, type Stack } from './helpers/stack.js';

const root = new URL('..', import.meta.url).pathname;
const artifacts = `${root}test-artifacts`;
const CHROMIUM = '/usr/bin/chromium';

let stack: Stack;
let browser: Browser;
const problems: string[] = [];

/** Chromium from Debian where absent; a missing browser is a failure with a reason, never a silent pass. */
function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  const run = spawnSync('bash', [`${root}scripts/ensure-chromium.sh`], { encoding: 'utf8', timeout: 600_000 });
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The playground test needs Debian's chromium at ${CHROMIUM} and scripts/ensure-chromium.sh could not install it ` +
        `(exit ${run.status}): ${(run.stderr || run.stdout || String(run.error ?? '')).trim().slice(-800)}`,
    );
  }
}

async function openPage(user = 'playground-user'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Any script error or CSP violation on the page fails the suite (checked in the last test).
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy|Refused to/i.test(message.text()))
      problems.push(`csp: ${message.text()}`);
  });
  await page.goto(`${stack.url}/playground`);
  await page.waitForSelector('html[data-ready="true"]');
  if (user !== 'playground-user') {
    await page.fill('#user-id', user);
  }
  return page;
}

before(async () => {
  ensureChromium();
  mkdirSync(artifacts, { recursive: true });
  // A small per-token delay in the simulator so a stream visibly arrives in pieces.
  stack = await startStack({ simulator: { tokenDelayMs: 15 }, azurite: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('GET /api/playground', () => {
  it('serves the page and its files with a CSP that allows only its own script and style', async () => {
    const page = await fetch(`${stack.url}/playground`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /style-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    const html = await page.text();
    assert.doesNotMatch(
      html,
      /<script>|<style>|\son[a-z]+=/i,
      'no inline script, style or handler (the CSP would block them)',
    );
    assert.match(html, /<meta name="api-base" content="\/api\/v1" ?\/?>/);
    for (const [file, type] of [
      ['playground.js', /^text\/javascript/],
      ['playground.css', /^text\/css/],
      ['presets.json', /^application\/json/],
    ] as const) {
      const res = await fetch(`${stack.url}/playground/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get('content-type') ?? '', type, file);
      assert.equal(res.headers.get('content-security-policy'), csp);
      const etag = res.headers.get('etag')!;
      assert.equal(
        (await fetch(`${stack.url}/playground/${file}`, { headers: { 'if-none-match': etag } })).status,
        304,
        `${file} revalidates`,
      );
    }
    assert.deepEqual(await (await fetch(`${stack.url}/playground/presets.json`)).json(), promptPresets);
    const missing = await fetch(`${stack.url}/playground/secrets.txt`);
    assert.equal(missing.status, 404);
    assert.ok(isErrorShape(await missing.json()));
    assert.equal((await fetch(`${stack.url}/playground/..%2Fpackage.json`)).status, 404);
  });

  it('labels every control', async () => {
    const page = await openPage();
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, textarea, select, button')]
        .filter((el) => {
          const named =
            (el as HTMLInputElement).labels?.length ||
            el.getAttribute('aria-label') ||
            (el.tagName === 'BUTTON' && el.textContent?.trim());
          return !named && !(el as HTMLElement).closest('[hidden]');
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unlabelled, []);
    assert.equal(await page.getAttribute('#answer', 'aria-live'), 'polite');
    await page.close();
  });

  it('streams a chat answer into the page, with the live token count and the usage of the answer', async () => {
    const page = await openPage();
    await page.fill('#max_tokens', '100');
    await page.fill('#user-message', 'Count to 10. E.g. 1, 2, 3, 4, ...');
    // The count is debounced; wait for the one that includes the message just typed.
    const expected = await postJson(`${stack.url}/v1/tokenize`, {
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: 'Count to 10. E.g. 1, 2, 3, 4, ...' },
      ],
    });
    await page.waitForFunction(
      (n) => document.getElementById('token-count')?.dataset.count === String(n),
      expected.json.count,
      { timeout: 15_000 },
    );
    assert.match(
      (await page.textContent('#token-count'))!,
      new RegExp(`Prompt: ${expected.json.count} tokens \\(o200k_base\\)`),
    );

    // Record what the answer bubble shows at each change, to see the text arrive in pieces while the region is busy.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as any).__seen = seen;
      new MutationObserver(() => {
        const text = document.querySelector('#answer .message.assistant:last-child .text')?.textContent ?? '';
        if (document.getElementById('answer')?.getAttribute('aria-busy') === 'true' && text && seen.at(-1) !== text)
          seen.push(text);
      }).observe(document.getElementById('answer')!, { subtree: true, childList: true, characterData: true });
    });
    const started = Date.now();
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#answer .message.assistant .text:not(:empty)');
    const firstText = Date.now() - started;
    await page.waitForSelector('#usage:not(:empty)', { timeout: 20_000 });
    const answer = await page.textContent('#answer .message.assistant:last-child .text');
    assert.equal(answer, '1, 2, 3, 4, 5, 6, 7, 8, 9, 10.');
    const seen: string[] = await page.evaluate(() => (window as any).__seen);
    assert.ok(seen.length >= 3, `the answer arrived in pieces (saw ${JSON.stringify(seen)})`);
    assert.ok(
      seen.every((s, i) => i === 0 || s.startsWith(seen[i - 1]!)),
      'each piece extends the last',
    );
    assert.ok(seen[0]!.length < answer.length);
    assert.equal(await page.getAttribute('#answer', 'aria-busy'), 'false');

    const usage = (await page.textContent('#usage'))!;
    const promptTokens = Number(await page.getAttribute('#usage', 'data-prompt-tokens'));
    assert.equal(promptTokens, expected.json.count, `usage ${usage} matches the token count shown before sending`);
    assert.match(
      usage,
      new RegExp(`prompt ${expected.json.count} · completion \\d+ · total \\d+ tokens · finish: stop`),
    );
    assert.match((await page.textContent('#request-preview'))!, /"include_usage": true/);
    await page.screenshot({ path: `${artifacts}/playground.png`, fullPage: true });

    // The message box is cleared and the count now covers the whole transcript.
    assert.equal(await page.inputValue('#user-message'), '');
    await page.waitForFunction(
      (n) => Number(document.getElementById('token-count')?.dataset.count) > n,
      expected.json.count,
    );
    assert.ok(firstText < 15_000);
    await page.close();
  });

  it('runs a seed preset as a completion with its stop sequence', async () => {
    const page = await openPage();
    const preset = promptPresets.find((p) => p.id === 'dialogue')!;
    await page.click(`button[data-preset="${preset.id}"]`);
    assert.equal(await page.isChecked('input[name="mode"][value="completion"]'), true);
    assert.equal(await page.inputValue('#prompt'), preset.body.prompt);
    assert.equal(await page.inputValue('#stop'), 'Doctor:');
    assert.equal(await page.inputValue('#model'), 'gpt-35-turbo-instruct');
    await page.click('#send');
    await page.waitForSelector('#usage:not(:empty)', { timeout: 20_000 });
    const text = (await page.textContent('#answer pre.completion'))!;
    assert.ok(text.length > 0 && !text.includes('Doctor:'), text);
    const direct = await postJson(`${stack.url}/v1/completions`, { ...preset.body });
    assert.equal(text, direct.json.choices[0].text, 'the page shows what the API answers');
    assert.match((await page.textContent('#usage'))!, /finish: (stop|length)/);
    await page.close();
  });

  it('keeps conversations: new, continue, list, open, delete — per user', async () => {
    const user = `pg-${Date.now()}`;
    const page = await openPage(user);
    await page.fill('#user-message', 'Knock knock.');
    await page.click('#new-conversation');
    await page.waitForSelector('#conversation-banner:not([hidden])');
    await page.click('#send');
    await page.waitForSelector('#usage:not(:empty)', { timeout: 20_000 });
    assert.equal(await page.textContent('#answer .message.assistant:last-child .text'), "Who's there?");
    await page.waitForSelector('#conversations li button.link');
    assert.equal(await page.textContent('#conversations li button.link'), 'Knock knock.');

    // The server kept it: another page for the same user lists it and opens its history.
    const other = await openPage(user);
    await other.waitForSelector('#conversations li button.link');
    await other.click('#conversations li button.link');
    await other.waitForSelector('#answer .message.assistant');
    assert.deepEqual(await other.$$eval('#answer .message .text', (els) => els.map((e) => e.textContent)), [
      'Knock knock.',
      "Who's there?",
    ]);
    // Continue it from the second page.
    await other.fill('#user-message', 'Orange.');
    await other.click('#send');
    await other.waitForFunction(
      () =>
        document.querySelectorAll('#answer .message').length === 4 &&
        document.getElementById('answer')?.getAttribute('aria-busy') === 'false',
    );
    const asUser = { headers: { 'x-ms-client-principal-id': user } };
    const list = await (await fetch(`${stack.url}/v1/conversations`, asUser)).json();
    assert.equal(list.data.length, 1);
    const conversationId: string = list.data[0].id;
    const history = await (
      await fetch(`${stack.url}/v1/conversations/${conversationId}/messages?order=asc`, asUser)
    ).json();
    assert.deepEqual(
      history.data
        .filter((m: any) => m.role !== 'system')
        .map((m: any) => m.content)
        .slice(0, 3),
      ['Knock knock.', "Who's there?", 'Orange.'],
    );

    // Another user sees none of it.
    const stranger = await openPage(`${user}-other`);
    await stranger.waitForSelector('#conversations-status:has-text("No conversations yet.")');

    await other.click(`#conversations li button[aria-label^="Delete conversation"]`);
    await other.waitForSelector('#conversations-status:has-text("Deleted")');
    assert.equal(await other.$$eval('#conversations li', (els) => els.length), 0);
    const gone = await fetch(`${stack.url}/v1/conversations/${conversationId}`, asUser);
    assert.equal(gone.status, 404);
    await Promise.all([page.close(), other.close(), stranger.close()]);
  });

  it('shows the request id, and the same call as code for a browser app that runs as shown', async () => {
    const page = await openPage();
    await page.click('#stream'); // a whole answer, so the snippets print it
    await page.fill('#max_tokens', '20');
    await page.fill('#user-message', 'Knock knock.');
    await page.click('#send');
    await page.waitForSelector('#usage:not(:empty)', { timeout: 20_000 });
    assert.match((await page.textContent('#request-id'))!, /^x-request-id: [0-9a-f-]{36}$/);
    const fetchCode = (await page.textContent('#code-fetch'))!;
    const openaiCode = (await page.textContent('#code-openai'))!;
    assert.match(fetchCode, new RegExp(`fetch\\('${stack.url}/v1/chat/completions'`));
    assert.match(fetchCode, /'x-ms-client-principal-id': "playground-user"/);
    assert.match(openaiCode, /dangerouslyAllowBrowser: true/);
    assert.match((await page.textContent('#code-ai-sdk'))!, /createOpenAI\(\{ baseURL: '/);
    // Run the fetch and openai snippets as they are shown (imports replaced by the same module).
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor;
    const printed: any[] = [];
    const log = { log: (...values: unknown[]) => printed.push(values) };
    await new AsyncFunction('console', fetchCode)(log);
    const { default: OpenAI } = await import('openai');
    await new AsyncFunction('OpenAI', 'console', openaiCode.replace(/^import .*$/m, ''))(OpenAI, log);
    assert.equal(printed[0][0].choices[0].message.content, "Who's there?");
    assert.equal(printed[1][0].message.content, "Who's there?");
    assert.match(printed[1][1], /^[0-9a-f-]{36}$/, "the openai client's _request_id");
    await page.close();
  });

  it('runs a Responses API chat: each turn names the previous response, streamed and not', async () => {
    const user = `pg-resp-${Date.now()}`;
    const page = await openPage(user);
    await page.check('#responses-api');
    await page.fill('#temperature', '0');
    await page.fill('#user-message', 'Knock knock.');
    await page.click('#send');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#answer .message').length === 2 &&
        document.getElementById('answer')?.getAttribute('aria-busy') === 'false',
    );
    assert.equal(await page.textContent('#answer .message.assistant:last-child .text'), "Who's there?");
    assert.match((await page.textContent('#request-preview'))!, /\/responses/);
    await page.uncheck('#stream');
    await page.fill('#user-message', 'Orange.');
    await page.click('#send');
    await page.waitForFunction(
      () =>
        document.querySelectorAll('#answer .message').length === 4 &&
        document.getElementById('answer')?.getAttribute('aria-busy') === 'false',
    );
    assert.ok(((await page.textContent('#answer .message.assistant:last-child .text')) ?? '').length > 0);
    // The second turn named the first stored response.
    const curl = (await page.textContent('#request-preview'))!;
    const preview = JSON.parse(curl.slice(curl.indexOf(" -d '") + 5, -1));
    assert.match(preview.previous_response_id, /^resp_/);
    const first = await fetch(`${stack.url}/v1/responses/${preview.previous_response_id}`, {
      headers: { 'x-ms-client-principal-id': user },
    });
    assert.equal((await first.json()).output[0].content[0].text, "Who's there?");
    await page.close();
  });

  it('shows an API error instead of an answer, and raised no script errors or CSP violations', async () => {
    const page = await openPage();
    await page.click('input[name="mode"][value="completion"]');
    await page.fill('#prompt', 'hello');
    await page.fill('#stop', 'a\nb\nc\nd\ne');
    await page.click('#send');
    await page.waitForSelector('#error:not(:empty)');
    assert.match((await page.textContent('#error'))!, /^400: .*stop/);
    assert.match((await page.textContent('#error'))!, /\(request id [0-9a-f-]{36}\)$/, 'the error can be quoted');
    await page.close();
    assert.deepEqual(problems, []);
  });
});

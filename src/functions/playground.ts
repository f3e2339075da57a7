import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { defineFunction } from '../http/handler.js';
import { notFound } from '../http/errors.js';
import { promptPresets } from '../playground/presets.js';

/** Only the page's own script, style and API calls: no inline code, no other origin. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  type: string;
  body: string;
  etag: string;
}

const FILES: Record<string, string> = {
  'playground.js': 'text/javascript; charset=utf-8',
  'playground.css': 'text/css; charset=utf-8',
};
let assets: Map<string, Asset> | undefined;

/**
 * Read once, at the first request: from src/playground (tsx, tests), or dist/playground beside the bundle
 * (scripts/build.ts copies them).
 */
function loadAssets(): Map<string, Asset> {
  if (assets) return assets;
  const dir = [new URL('../playground/', import.meta.url), new URL('./playground/', import.meta.url)].find((d) =>
    existsSync(new URL('index.html', d)),
  )!;
  const asset = (type: string, body: string): Asset => ({
    type,
    body,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  });
  const loaded = new Map<string, Asset>();
  loaded.set('index.html', asset('text/html; charset=utf-8', readFileSync(new URL('index.html', dir), 'utf8')));
  for (const [file, type] of Object.entries(FILES))
    loaded.set(file, asset(type, readFileSync(new URL(file, dir), 'utf8')));
  loaded.set('presets.json', asset('application/json; charset=utf-8', JSON.stringify(promptPresets)));
  assets = loaded;
  return loaded;
}

function serve(request: HttpRequest, item: Asset, body = item.body): HttpResponseInit {
  const headers = {
    'content-type': item.type,
    'cache-control': 'no-cache',
    etag: item.etag,
    'content-security-policy': PAGE_CSP,
  };
  if (request.headers.get('if-none-match') === item.etag) return { status: 304, headers };
  return { status: 200, headers, body };
}

const escapeAttribute = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

export const playgroundFunctions = [
  defineFunction({
    name: 'playground',
    route: 'playground',
    methods: ['GET'],
    docs: {
      summary: 'A page to try completions, chat and conversations from a browser (HTML).',
      tags: ['playground'],
      responses: { 200: 'The playground page (text/html).' },
    },
    async handle({ request }) {
      const page = loadAssets().get('index.html')!;
      // Asset and API links are built from the path the page was reached at, so any route prefix works.
      const base = new URL(request.url).pathname.replace(/\/+$/, '');
      const api = `${base.slice(0, base.lastIndexOf('/'))}/v1`;
      const html = page.body.replaceAll('{{base}}', escapeAttribute(base)).replaceAll('{{api}}', escapeAttribute(api));
      return serve(
        request,
        { ...page, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"` },
        html,
      );
    },
  }),
  defineFunction({
    name: 'playground-asset',
    route: 'playground/{file}',
    methods: ['GET'],
    docs: {
      summary: "The playground's script, stylesheet and presets (`playground.js`, `playground.css`, `presets.json`).",
      tags: ['playground'],
      responses: { 200: 'The file, as text/javascript, text/css or application/json.' },
    },
    async handle({ request }) {
      const file = request.params.file ?? '';
      const item = file === 'index.html' ? undefined : loadAssets().get(file);
      if (!item) throw notFound(`No playground file '${file}'.`);
      return serve(request, item);
    },
  }),
];

import * as z from 'zod/mini';
import { defineFunction, json } from '../http/handler.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/document.js';

const SELF_ROUTE = 'v1/openapi.json';
const documents = new Map<string, OpenApiDocument>();

/** The route prefix as this request reached us (`/api` unless host.json says otherwise). */
function basePathOf(url: string): string {
  const path = new URL(url).pathname.replace(/\/+$/, '');
  return path.toLowerCase().endsWith(`/${SELF_ROUTE}`) ? path.slice(0, -SELF_ROUTE.length - 1) : '/api';
}

export const openapiFunctions = [
  defineFunction({
    name: 'openapi',
    route: SELF_ROUTE,
    methods: ['GET'],
    docs: {
      summary: 'This OpenAPI 3.1 document, generated from the schemas that validate requests.',
      tags: ['service'],
      responses: {
        200: z.looseObject({
          openapi: z.literal('3.1.0'),
          info: z.object({ title: z.string(), version: z.string() }),
          paths: z.record(z.string(), z.unknown()),
        }),
      },
    },
    async handle({ request }) {
      const basePath = basePathOf(request.url);
      let document = documents.get(basePath);
      if (!document) {
        // Imported here, not at the top: the registry imports this file, so a static import would be circular.
        const { functions } = await import('./registry.js');
        document = buildOpenApiDocument(functions, { basePath });
        documents.set(basePath, document);
      }
      return json(200, document, { 'cache-control': 'public, max-age=300' });
    },
  }),
];

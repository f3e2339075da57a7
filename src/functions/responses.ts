import { badRequest } from '../errors.js';
import { defineFunction, json } from '../http/handler.js';
import { listPage } from '../http/list-page.js';
import { answerResponse, callContext } from '../http/model-answer.js';
import { createResponse, responseStore } from '../responses/service.js';
import {
  createResponseSchema,
  deletedResponseSchema,
  itemListSchema,
  listItemsQuerySchema,
  responseObjectSchema,
  type StoredItem,
} from '../schemas/responses.js';

/** One page of an in-memory item list, OpenAI's cursor rules: `after`/`before` name an item id. */
export function itemPage(
  items: StoredItem[],
  query: { limit: number; order: 'asc' | 'desc'; after?: string; before?: string },
) {
  const ordered = query.order === 'desc' ? [...items].reverse() : items;
  let start = 0;
  let end = ordered.length;
  if (query.after) {
    const at = ordered.findIndex((item) => item.id === query.after);
    if (at < 0) throw badRequest(`'after' is not an item of this list.`, 'after');
    start = at + 1;
  }
  if (query.before) {
    const at = ordered.findIndex((item) => item.id === query.before);
    if (at < 0) throw badRequest(`'before' is not an item of this list.`, 'before');
    end = at;
  }
  const data =
    query.before && !query.after
      ? ordered.slice(Math.max(start, end - query.limit), end)
      : ordered.slice(start, Math.min(end, start + query.limit));
  const hasMore = query.before && !query.after ? end - query.limit > start : start + query.limit < end;
  return listPage(data, hasMore);
}

export const responseFunctions = [
  defineFunction({
    name: 'createResponse',
    route: 'v1/responses',
    methods: ['POST'],
    body: createResponseSchema,
    docs: {
      summary:
        'OpenAI Responses API on the chat deployments: history by `previous_response_id` or `conversation`, stored per user; `stream: true` answers with the Responses event stream.',
      tags: ['responses'],
      responses: { 200: responseObjectSchema },
      streams: true,
    },
    async handle(input) {
      return answerResponse(await createResponse(input.body, callContext(input)));
    },
  }),
  defineFunction({
    name: 'getResponse',
    route: 'v1/responses/{id}',
    methods: ['GET'],
    caller: 'required',
    docs: {
      summary: 'One stored response of the caller.',
      tags: ['responses'],
      responses: { 200: responseObjectSchema },
    },
    async handle({ params, principal }) {
      return json(200, (await responseStore().get(principal.id, params.id ?? '')).body);
    },
  }),
  defineFunction({
    name: 'deleteResponse',
    route: 'v1/responses/{id}',
    methods: ['DELETE'],
    caller: 'required',
    docs: {
      summary: 'Delete a stored response (later responses chained to it keep the rest of their history).',
      tags: ['responses'],
      responses: { 200: deletedResponseSchema },
    },
    async handle({ params, principal }) {
      const id = params.id ?? '';
      await responseStore().delete(principal.id, id);
      return json(200, { id, object: 'response.deleted', deleted: true });
    },
  }),
  defineFunction({
    name: 'listResponseInputItems',
    route: 'v1/responses/{id}/input_items',
    methods: ['GET'],
    caller: 'required',
    query: listItemsQuerySchema,
    docs: {
      summary: "A stored response's input items (list shape, cursor pages).",
      tags: ['responses'],
      responses: { 200: itemListSchema },
    },
    async handle({ params, query, principal }) {
      return json(200, itemPage((await responseStore().get(principal.id, params.id ?? '')).input, query));
    },
  }),
];

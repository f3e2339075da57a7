import { notFound } from '../errors.js';
import { defineFunction, json } from '../http/handler.js';
import { modelListSchema, modelObjectSchema, type ModelObject } from '../schemas/models.js';
import { deploymentLists, type Capability } from '../upstream/index.js';

/** No deployment date is known here; a fixed value keeps answers stable (clients only display it). */
const CREATED = 1_700_000_000;

/** Every configured deployment alias once, with the capabilities it is configured for, in configuration order. */
export function configuredModels(): ModelObject[] {
  const byAlias = new Map<string, ModelObject>();
  for (const [capability, aliases] of Object.entries(deploymentLists()) as [Capability, readonly string[]][]) {
    for (const id of aliases) {
      const model = byAlias.get(id) ?? {
        id,
        object: 'model' as const,
        created: CREATED,
        owned_by: 'system',
        capabilities: [],
      };
      model.capabilities.push(capability);
      byAlias.set(id, model);
    }
  }
  return [...byAlias.values()];
}

export const modelFunctions = [
  defineFunction({
    name: 'listModels',
    route: 'v1/models',
    methods: ['GET'],
    docs: {
      summary: 'The configured deployment aliases (OpenAI list shape), for model pickers.',
      tags: ['models'],
      responses: { 200: modelListSchema },
    },
    async handle() {
      return json(200, { object: 'list', data: configuredModels() });
    },
  }),
  defineFunction({
    name: 'getModel',
    route: 'v1/models/{id}',
    methods: ['GET'],
    docs: { summary: 'One configured deployment alias.', tags: ['models'], responses: { 200: modelObjectSchema } },
    async handle({ params }) {
      const id = params.id ?? '';
      const model = configuredModels().find((m) => m.id === id);
      if (!model) throw notFound(`The model '${id.slice(0, 256)}' does not exist.`, 'model_not_found');
      return json(200, model);
    },
  }),
];

/**
 * Azure OpenAI's own paths, so code written for Azure OpenAI runs here by changing only its endpoint:
 * `/openai/deployments/{deployment}/…?api-version=…` (AzureOpenAI clients, LangChain's AzureChatOpenAI, the old
 * Python SDK's `engine=`) and `/openai/v1/…` (Azure's newer OpenAI-style base URL, aliases of this service's routes).
 * Whatever `api-key` or `Authorization` such a client sends is ignored: it is never read, forwarded or logged, and
 * the caller is who the platform says (Easy Auth's principal headers), as on every route.
 */
import type { HttpRequest } from '@azure/functions';
import { ApiError } from '../http/errors.js';
import { defineFunction, json, type ApiFunction } from '../http/handler.js';
import { deploymentLists, type Capability } from '../upstream/index.js';
import {
  AZURE_API_VERSIONS,
  azureChatRequestSchema,
  azureCompletionRequestSchema,
  azureEmbeddingsRequestSchema,
  azureQuerySchema,
} from '../schemas/azure.js';
import { chatCompletionSchema } from '../schemas/chat.js';
import { completionSchema } from '../schemas/completions.js';
import { embeddingsResponseSchema } from '../schemas/embeddings.js';
import { createChatCompletion } from '../services/chat.js';
import { createCompletion } from '../services/completions.js';
import { createEmbeddings } from '../services/embeddings.js';
import { answerResponse, backendHeaders, callContext } from '../http/model-answer.js';
import { chatFunctions } from './chat.js';
import { completionsFunctions } from './completions.js';
import { embeddingsFunctions } from './embeddings.js';
import { modelFunctions } from './models.js';
import { responseFunctions } from './responses.js';

const TAG = 'azure-openai';

/**
 * Azure answers a missing api-version with 404 `{"error":{"code":"404","message":"Resource not found"}}` and an
 * unknown one with 400 `{"error":{"code":"BadRequest","message":"API version not supported"}}` (observed behaviour,
 * e.g. MicrosoftDocs/azure-docs#114602); the same codes here, with a message that says what to send.
 */
function checkApiVersion(request: HttpRequest): void {
  const version = request.query.get('api-version');
  if (!version) {
    throw new ApiError(
      404,
      'not_found_error',
      'Resource not found: the api-version query parameter is required (e.g. ?api-version=2024-10-21).',
      'api-version',
      '404',
    );
  }
  if (!AZURE_API_VERSIONS.includes(version)) {
    throw new ApiError(
      400,
      'invalid_request_error',
      `API version not supported: '${version.slice(0, 40)}'. Supported: ${AZURE_API_VERSIONS.join(', ')}.`,
      'api-version',
      'BadRequest',
    );
  }
}

/**
 * The deployment in the path is one of this service's aliases for the capability. Otherwise Azure's answers
 * (inference spec 2024-10-21 error shape; codes as Azure sends them): 404 `DeploymentNotFound`, or 400
 * `OperationNotSupported` when the deployment exists for another capability.
 */
function deploymentFor(capability: Capability, request: HttpRequest): string {
  const deployment = request.params.deployment ?? '';
  const byCapability = deploymentLists();
  if (byCapability[capability].includes(deployment)) return deployment;
  const known = `Deployments for ${capability}: ${byCapability[capability].join(', ')}.`;
  if (Object.values(byCapability).some((names) => names.includes(deployment))) {
    throw new ApiError(
      400,
      'invalid_request_error',
      `The ${capability} operation does not work with the deployment '${deployment}'. ${known}`,
      null,
      'OperationNotSupported',
    );
  }
  throw new ApiError(
    404,
    'not_found_error',
    `The API deployment '${deployment.slice(0, 64)}' does not exist here. ${known}`,
    null,
    'DeploymentNotFound',
  );
}

const azureContext = (input: Parameters<typeof callContext>[0]) => ({ ...callContext(input), azureShape: true });

const deploymentRoutes = [
  defineFunction({
    name: 'azureChatCompletions',
    route: 'openai/deployments/{deployment}/chat/completions',
    methods: ['POST'],
    body: azureChatRequestSchema,
    docs: {
      summary: "Chat completion on Azure OpenAI's path (deployment = a configured alias); answers keep Azure's fields.",
      tags: [TAG],
      // api-version is checked by the route itself: Azure answers a missing one with its own 404 shape.
      query: azureQuerySchema,
      responses: { 200: chatCompletionSchema },
      streams: true,
    },
    async handle(input) {
      const { request, body } = input;
      checkApiVersion(request);
      const model = deploymentFor('chat', request);
      return answerResponse(await createChatCompletion(Object.assign({}, body, { model }), azureContext(input)));
    },
  }),
  defineFunction({
    name: 'azureCompletions',
    route: 'openai/deployments/{deployment}/completions',
    methods: ['POST'],
    body: azureCompletionRequestSchema,
    docs: {
      summary:
        "Prompt continuation on Azure OpenAI's path (deployment = a configured alias); answers keep Azure's fields.",
      tags: [TAG],
      // api-version is checked by the route itself: Azure answers a missing one with its own 404 shape.
      query: azureQuerySchema,
      responses: { 200: completionSchema },
      streams: true,
    },
    async handle(input) {
      const { request, body } = input;
      checkApiVersion(request);
      const model = deploymentFor('completions', request);
      return answerResponse(await createCompletion(Object.assign({}, body, { model }), azureContext(input)));
    },
  }),
  defineFunction({
    name: 'azureEmbeddings',
    route: 'openai/deployments/{deployment}/embeddings',
    methods: ['POST'],
    body: azureEmbeddingsRequestSchema,
    docs: {
      summary: "Embeddings on Azure OpenAI's path; the deployment is a configured alias.",
      tags: [TAG],
      // api-version is checked by the route itself: Azure answers a missing one with its own 404 shape.
      query: azureQuerySchema,
      responses: { 200: embeddingsResponseSchema },
    },
    async handle(input) {
      const { request, body } = input;
      checkApiVersion(request);
      const model = deploymentFor('embeddings', request);
      const context = azureContext(input);
      return json(
        200,
        await createEmbeddings(Object.assign({}, body, { model }), context),
        backendHeaders(context.trace?.backend),
      );
    },
  }),
];

/** `/openai/v1/X` serves exactly what `/v1/X` serves (same handler, same normalisation); only the path differs. */
function alias(target: ApiFunction, name: string): ApiFunction {
  return {
    ...target,
    name,
    route: `openai/${target.route}`,
    docs: { ...target.docs, summary: `Alias of /${target.route} at Azure's /openai/v1 base URL.`, tags: [TAG] },
  };
}

const byRoute = (list: readonly ApiFunction[], route: string): ApiFunction => {
  const fn = list.find((f) => f.route === route);
  if (!fn) throw new Error(`no function serves ${route}`);
  return fn;
};

export const azureFunctions: ApiFunction[] = [
  ...deploymentRoutes,
  alias(byRoute(chatFunctions, 'v1/chat/completions'), 'azureV1ChatCompletions'),
  alias(byRoute(completionsFunctions, 'v1/completions'), 'azureV1Completions'),
  alias(byRoute(embeddingsFunctions, 'v1/embeddings'), 'azureV1Embeddings'),
  alias(byRoute(modelFunctions, 'v1/models'), 'azureV1Models'),
  alias(byRoute(modelFunctions, 'v1/models/{id}'), 'azureV1Model'),
  ...responseFunctions.map((fn) => alias(fn, `azureV1${fn.name[0]!.toUpperCase()}${fn.name.slice(1)}`)),
];

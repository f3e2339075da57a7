import type { ApiFunction } from '../http/handler.js';
import { azureFunctions } from './azure.js';
import { chatFunctions } from './chat.js';
import { completionsFunctions } from './completions.js';
import { conversationItemFunctions } from './conversation-items.js';
import { conversationFunctions } from './conversations.js';
import { embeddingsFunctions } from './embeddings.js';
import { healthFunctions } from './health.js';
import { modelFunctions } from './models.js';
import { openapiFunctions } from './openapi.js';
import { playgroundFunctions } from './playground.js';
import { responseFunctions } from './responses.js';
import { tokenizeFunctions } from './tokenize.js';
import { usageFunctions } from './usage.js';

/**
 * Every HTTP function of the app. `src/index.ts` registers these with Azure Functions; `dev/host.ts` serves the same
 * list.
 */
export const functions: readonly ApiFunction[] = [
  ...completionsFunctions,
  ...chatFunctions,
  ...embeddingsFunctions,
  ...azureFunctions,
  ...conversationFunctions,
  ...conversationItemFunctions,
  ...responseFunctions,
  ...modelFunctions,
  ...tokenizeFunctions,
  ...usageFunctions,
  ...healthFunctions,
  ...openapiFunctions,
  ...playgroundFunctions,
];

// The plain entry: registers the function list eagerly (what `tsc` output or a debugger loads). The deployment
// build (scripts/build.ts) generates dist/index.js from the same list, registering routes from a table and loading
// the handlers on the first request, to keep cold starts short.
import { app } from '@azure/functions';
import { functions } from './functions/registry.js';

// Streamed request and response bodies (SSE answers) need the HTTP stream feature of the v4 model.
app.setup({ enableHttpStream: true });

for (const fn of functions) {
  app.http(fn.name, { route: fn.route, methods: fn.methods, authLevel: fn.authLevel, handler: fn.handler });
}

import { app } from '@azure/functions';
import { functions } from './functions/registry.js';

// Streamed request and response bodies (SSE answers) need the HTTP stream feature of the v4 model.
app.setup({ enableHttpStream: true });

for (const fn of functions) {
  app.http(fn.name, { route: fn.route, methods: fn.methods, authLevel: fn.authLevel, handler: fn.handler });
}

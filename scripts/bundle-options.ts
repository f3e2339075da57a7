/**
 * How the deployment bundle is built (scripts/build.ts), shared with the benches that bundle their own entries
 * "as dist/ is" (a floor app, the chat route's layers), so both run code shaped the same way.
 */
import type { BuildOptions } from 'esbuild';

export const DIST_BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  // What Azure runs: functionAppConfig.runtime in infra/modules/functionapp.bicep (test/build.test.ts checks).
  target: 'node22',
  // Maps ship for decoding a trace, but Node does not run with --enable-source-maps: parsing every chunk's map as it
  // loads cost the first chat answer ~20 ms of cold start (docs/benchmarks.md). Identifiers stay unminified instead,
  // so a stack trace names the real functions. Mappings only: the sources are in the repository.
  sourcemap: true,
  sourcesContent: false,
  minifyWhitespace: true,
  minifySyntax: true,
  // Provided by the Functions worker at run time.
  external: ['@azure/functions-core'],
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
} satisfies BuildOptions;

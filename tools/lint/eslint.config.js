/**
 * ESLint for the project's TypeScript: ESLint's and typescript-eslint's recommended rules, with the type-aware
 * set (floating promises, misused promises, unsafe `any`). Loaded through the root eslint.config.js; it lives
 * here so that `typescript-eslint` resolves this workspace's TypeScript 5 (see package.json's description).
 */
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const root = new URL('../../', import.meta.url).pathname;

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'dist/',
    '.build/',
    'test-artifacts/',
    'src/tokens/tables/',
    '**/*.js',
    '**/*.mjs',
  ]),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    rules: {
      // `_name` marks what is left unused on purpose (destructured away, a required parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      // node:test's describe/it return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // Async methods without await are how interfaces with async signatures are implemented (stores, handlers).
      '@typescript-eslint/require-await': 'off',
      // Prettier wraps code at 120 columns but not comments; long strings (messages, prompts) stay whole.
      'max-len': [
        'error',
        { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreUrls: true, ignoreRegExpLiterals: true },
      ],
      // zod's compiler cannot compile a `z.describe` check: every field holding one ran through the interpreter on
      // every request (docs/benchmarks.md, issue 20). A description goes in the registry instead.
      'no-restricted-properties': [
        'error',
        {
          object: 'z',
          property: 'describe',
          message:
            "Use `.register(z.globalRegistry, { description })`: zod's compiler cannot compile a describe check.",
        },
      ],
    },
  },
  {
    // Tests, benchmarks, the simulator and scripts read JSON whose shape they assert or produce: `any` is the point.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'dev/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Logs and assertion messages concatenate buffers and numbers on purpose.
      '@typescript-eslint/restrict-plus-operands': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      // `server.on('request', async …)` style callbacks: each catches its own errors (checked by the tests).
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
    },
  },
);

// The configuration lives beside its packages in the lint workspace (tools/lint); see tools/lint/eslint.config.js.
export { default } from './tools/lint/eslint.config.js';

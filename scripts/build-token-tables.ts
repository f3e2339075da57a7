/**
 * Builds src/tokens/tables/<encoding>.bin from js-tiktoken's rank files (the one source of the ranks).
 * Run by `npm install` (prepare) and `npm run build`; the tables are build output, not committed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ENCODING_NAMES } from '../src/tokens/encoding-names.js';
import { encodeTable, parseJsTiktokenRanks } from '../src/tokens/table-format.js';

const require = createRequire(import.meta.url);
const out = new URL('../src/tokens/tables/', import.meta.url);
mkdirSync(out, { recursive: true });
for (const name of ENCODING_NAMES) {
  const source = require(`js-tiktoken/ranks/${name}`);
  const { header, tokens } = parseJsTiktokenRanks(source.default ?? source, name);
  const file = encodeTable(header, tokens);
  writeFileSync(new URL(`${name}.bin`, out), file);
  console.log(`token table ${name}: ${header.count} ranks, ${(file.length / 1024).toFixed(0)} KiB`);
}

/**
 * Builds the deployment zip the way Core Tools and azd do: the project folder minus what .funcignore lists
 * (gitignore syntax, simplified to the patterns used there). Prints its size; `npm run package`.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { relative } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const patterns = readFileSync(`${root}.funcignore`, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const toRegex = (p: string) => new RegExp('^' + p.replace(/\/$/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*') + '(/|$)');
const ignored = patterns.map(toRegex);

export function packageFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      const rel = relative(root, path);
      if (ignored.some((r) => r.test(rel))) continue;
      if (entry.isDirectory()) walk(path);
      else files.push(rel);
    }
  };
  walk(root.replace(/\/$/, ''));
  return files.sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const zip = `${root}.build/deploy.zip`;
  rmSync(zip, { force: true });
  const files = packageFiles();
  execFileSync('zip', ['-q', '-9', zip, ...files], { cwd: root });
  console.log(`${files.length} files, ${(statSync(zip).size / 1024 / 1024).toFixed(2)} MB zipped → .build/deploy.zip`);
}

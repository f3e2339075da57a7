/**
 * The deployment artifact: a staging folder holding only what runs in Azure — host.json, a minimal package.json
 * (type + main, no scripts, no dependencies) and dist/ (the self-contained bundle, token tables, playground).
 * azure.yaml points azd at it (`dist: .build/deploy`), so azd zips exactly this folder, with no .funcignore and
 * no node_modules anywhere in or above it (see docs/deploy.md for the azd rules this satisfies).
 *
 * `tsx scripts/package.ts --stage` writes the folder (run by `npm run build`, which azd runs);
 * `npm run package` also zips it to .build/deploy.zip, as azd would, and prints the size.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
/** Where the artifact is staged, relative to the repository root; azure.yaml's `dist` names the same folder. */
export const STAGING_DIR = '.build/deploy';
export const stagingPath = `${root}${STAGING_DIR}/`;

/** The package.json the Functions Node worker reads: ESM, the entry; nothing to install or run. */
export function deployedPackageJson(): Record<string, string> {
  const project = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const { name, version, private: isPrivate, type, main } = project;
  return { name, version, private: isPrivate, type, main };
}

export function stage(): void {
  if (!existsSync(`${root}dist/index.js`)) throw new Error('dist/ is not built: run `npm run build` first');
  rmSync(stagingPath, { recursive: true, force: true });
  mkdirSync(stagingPath, { recursive: true });
  cpSync(`${root}host.json`, `${stagingPath}host.json`);
  writeFileSync(`${stagingPath}package.json`, JSON.stringify(deployedPackageJson(), null, 2) + '\n');
  cpSync(`${root}dist/`, `${stagingPath}dist/`, { recursive: true });
}

/** Every file of the staged artifact, relative to the staging folder (= the paths inside the zip). */
export function packageFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else files.push(relative(stagingPath, path));
    }
  };
  walk(stagingPath.replace(/\/$/, ''));
  return files.sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  stage();
  if (!process.argv.includes('--stage')) {
    const zip = `${root}.build/deploy.zip`;
    rmSync(zip, { force: true });
    const files = packageFiles();
    execFileSync('zip', ['-q', '-9', zip, ...files], { cwd: stagingPath });
    const mb = (statSync(zip).size / 1024 / 1024).toFixed(2);
    console.log(`${files.length} files, ${mb} MB zipped → .build/deploy.zip`);
  } else {
    console.log(`staged ${packageFiles().length} files in ${STAGING_DIR}/ (host.json, package.json, dist/)`);
  }
}

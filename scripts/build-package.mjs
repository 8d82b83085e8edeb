// Builds one workspace package for publishing, run from its directory (its `build`/`prepack`):
// the ESM build (`tsc -b`, which also builds the packages it references) and, for packages with a
// tsconfig.cjs.json, the CommonJS build in dist/cjs, marked CommonJS by its own package.json so
// Node and TypeScript read those .js/.d.ts files as CommonJS. Workspace dependencies with a
// CommonJS build are built first: the CommonJS build resolves their types through it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const root = resolve(import.meta.dirname, '..');
const built = new Set();

function workspaceDir(name) {
  for (const dir of ['packages/core', 'packages/sdk', 'packages/fake-llm', 'collector']) {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    if (manifest.name === name) return join(root, dir);
  }
  return undefined;
}

function build(dir) {
  if (built.has(dir)) return;
  built.add(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    const depDir = String(range).startsWith('workspace:') ? workspaceDir(name) : undefined;
    if (depDir && existsSync(join(depDir, 'tsconfig.cjs.json'))) build(depDir);
  }
  execFileSync(process.execPath, [tsc, '-b'], { cwd: dir, stdio: 'inherit' });
  if (existsSync(join(dir, 'tsconfig.cjs.json'))) {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.cjs.json'], { cwd: dir, stdio: 'inherit' });
    const marker = join(dir, 'dist/cjs/package.json');
    writeFileSync(marker, `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
  }
  process.stderr.write(`built ${manifest.name}\n`);
}

build(process.cwd());

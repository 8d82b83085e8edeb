import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the web console: one minified ES module (Preact included), one stylesheet, the page and
 * its icon. `buildConsole()` returns the files (the collector serves them from memory when it runs
 * from sources); run as a script it writes them to `dist/console/`, which the built collector
 * serves: `node --import tsx console/build.ts [outDir]` from the collector folder.
 */
const here = dirname(fileURLToPath(import.meta.url));

/** Path under the console's root (`index.html`, `console/app.js`, …) → contents. */
export type ConsoleFiles = Map<string, Uint8Array>;

export async function buildConsole(): Promise<ConsoleFiles> {
  const result = await build({
    entryPoints: { app: join(here, 'src', 'main.tsx') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(here, 'tsconfig.json'),
    outdir: '/console',
    write: false,
    legalComments: 'eof',
    logLevel: 'silent',
  });
  const files: ConsoleFiles = new Map();
  for (const file of result.outputFiles) files.set(`console/${file.path.split('/').pop()!}`, file.contents);
  files.set('index.html', readFileSync(join(here, 'index.html')));
  files.set('console/favicon.svg', readFileSync(join(here, 'favicon.svg')));
  return files;
}

export function writeConsole(files: ConsoleFiles, outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  for (const [path, contents] of files) {
    const target = join(outDir, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, contents);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? join(here, '..', 'dist', 'console'));
  const files = await buildConsole();
  writeConsole(files, outDir);
  const bytes = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
  process.stderr.write(`console: ${files.size} files, ${(bytes / 1024).toFixed(1)} KiB in ${outDir}\n`);
}

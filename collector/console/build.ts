import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the web console: one minified ES module (Preact included), one stylesheet, the page and
 * its icon. `buildConsole()` returns the files (the collector serves them from memory when it runs
 * from sources); run as a script it writes them to `dist/console/`, which the built collector
 * serves: `node --import tsx console/build.ts [--if-stale] [outDir]` from the collector folder
 * (`--if-stale`: only when a source is newer than the built page, so a start-up build costs nothing).
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

/** Newest modification time of the console's sources (and the locked Preact version). */
function newestSourceMs(): number {
  const paths = [
    join(here, 'index.html'),
    join(here, 'favicon.svg'),
    join(here, 'build.ts'),
    join(here, '..', 'package.json'),
  ];
  for (const entry of readdirSync(join(here, 'src'), { recursive: true, withFileTypes: true }))
    if (entry.isFile()) paths.push(join(entry.parentPath, entry.name));
  return Math.max(...paths.map((p) => statSync(p).mtimeMs));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outDir = resolve(args.find((a) => !a.startsWith('--')) ?? join(here, '..', 'dist', 'console'));
  const page = join(outDir, 'index.html');
  if (args.includes('--if-stale') && existsSync(page) && statSync(page).mtimeMs >= newestSourceMs())
    process.exit(0);
  const files = await buildConsole();
  writeConsole(files, outDir);
  const bytes = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
  process.stderr.write(`console: ${files.size} files, ${(bytes / 1024).toFixed(1)} KiB in ${outDir}\n`);
}

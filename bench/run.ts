import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModule, BenchResult } from './types.js';

/**
 * `pnpm bench [name...] [--quick]`: runs the benchmarks one after another (never in parallel:
 * they would measure each other) and writes bench/results/latest.{md,json}.
 *
 * Each benchmark runs in a fresh process: an earlier one leaves embedded-ClickHouse threads
 * merging in the background (counted in process.cpuUsage()) and JIT type feedback behind, which
 * made a later benchmark in the same process measure less than half its real throughput.
 */
const CHILD_FLAG = '--child-result';
const childAt = process.argv.indexOf(CHILD_FLAG);
if (childAt >= 0) {
  const [name, resultFile] = [process.argv[childAt + 1]!, process.argv[childAt + 2]!];
  const mod = (await import(`./${name}.ts`)) as BenchModule;
  const result = await mod.run({ quick: process.argv.includes('--quick') });
  writeFileSync(resultFile, JSON.stringify(result));
  process.exit(0);
}

function runInChild(name: string, quick: boolean): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-'));
  const resultFile = join(dir, 'result.json');
  const childArgs = [...process.execArgv, fileURLToPath(import.meta.url), CHILD_FLAG, name, resultFile];
  if (quick) childArgs.push('--quick');
  return new Promise<BenchResult>((resolveResult, reject) => {
    const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      try {
        if (code !== 0) throw new Error(`exited with ${signal ?? `code ${code}`}`);
        resolveResult(JSON.parse(readFileSync(resultFile, 'utf8')) as BenchResult);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

const BENCHES = [
  'sdk-overhead',
  'ingest',
  'ingest-memory',
  'pii',
  'detect',
  'detect-quality',
  'dashboards',
  'pipeline-stages',
  'compare',
  'datasets',
  'console',
  'rag',
  'insert-formats',
  'server-insert',
] as const;

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const wanted = args.filter((a) => !a.startsWith('--'));
const unknown = wanted.filter((w) => !(BENCHES as readonly string[]).includes(w));
if (unknown.length) {
  process.stderr.write(`bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHES.join(', ')}\n`);
  process.exit(2);
}
const selected = wanted.length ? wanted : [...BENCHES];

const machine = `${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
const results: BenchResult[] = [];
let failed = 0;
for (const [i, name] of selected.entries()) {
  process.stderr.write(`[${i + 1}/${selected.length}] ${name} …\n`);
  const started = Date.now();
  try {
    const result = await runInChild(name, quick);
    results.push(result);
    process.stdout.write(`\n${result.markdown}\n`);
    process.stderr.write(
      `[${i + 1}/${selected.length}] ${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  } catch (error) {
    failed++;
    process.stderr.write(
      `[${i + 1}/${selected.length}] ${name} FAILED: ${error instanceof Error ? error.stack : String(error)}\n`,
    );
  }
}

const outDir = join(here, 'results');
mkdirSync(outDir, { recursive: true });
const header = `# llmwatch benchmarks\n\n${new Date().toISOString()} — ${machine}${quick ? ' — quick mode' : ''}\n`;
writeFileSync(join(outDir, 'latest.md'), [header, ...results.map((r) => r.markdown)].join('\n\n') + '\n');
writeFileSync(join(outDir, 'latest.json'), JSON.stringify({ machine, quick, results }, null, 2) + '\n');
process.stderr.write(`results: ${join(outDir, 'latest.md')}\n`);
process.exitCode = failed ? 1 : 0;

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole } from '../collector/console/build.js';
import { parseConfig } from '../collector/src/config/index.js';
import { silentLogger } from '../collector/src/logging.js';
import { startCollector } from '../collector/src/server/collector.js';
import { generateCalls } from './dashboards.js';
import type { BenchResult } from './types.js';

/**
 * The web console: what it adds to the installed collector (its built assets; Preact and esbuild
 * are build-time only) and how long its overview takes to load over 1M stored calls on embedded
 * ClickHouse — the API requests the page makes when it opens (GET /api/overview for the range,
 * GET /api/alerts?status=firing), in parallel as the browser sends them, through the collector's
 * HTTP server. Calls are generated inside ClickHouse so the per-minute rollup fills as on ingest.
 * CPU time (this process: the collector and its embedded ClickHouse threads) is reported next to
 * wall time because on a shared machine the wall time mostly measures the other processes.
 */
const RANGES = [
  ['1h', 3_600_000],
  ['24h', 86_400_000],
  ['7d', 7 * 86_400_000],
] as const;

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const size = options.quick ? 100_000 : 1_000_000;
  const files = await buildConsole();
  const assetBytes = [...files.values()].reduce((n, f) => n + f.byteLength, 0);
  const gzipBytes = [...files.values()].reduce((n, f) => n + gzipSync(f).byteLength, 0);

  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-console-'));
  const collector = await startCollector(
    parseConfig({
      server: { port: 0 },
      storage: { dataDir: join(dir, 'data') },
      detection: { enabled: false },
    }),
    { logger: silentLogger, drainTimeoutMs: 2_000 },
  );
  const loads: { range: string; coldMs: number; medianMs: number; medianCpuMs: number; calls: number }[] = [];
  const load = loadavg()[0]!;
  const generation = { seconds: 0 };
  try {
    const endMs = Date.now() - 60_000;
    const t0 = performance.now();
    for (let at = 0; at < size; at += 1_000_000)
      await collector.deps.clickhouse.ingest.command({
        query: generateCalls(Math.min(1_000_000, size - at), at, endMs),
      });
    generation.seconds = (performance.now() - t0) / 1000;

    const openOverview = async (range: number): Promise<{ ms: number; cpuMs: number; calls: number }> => {
      const to = new Date().toISOString();
      const from = new Date(Date.now() - range).toISOString();
      const t = performance.now();
      const cpu = process.cpuUsage();
      const [overview] = await Promise.all(
        [`/api/overview?from=${from}&to=${to}`, '/api/alerts?status=firing&limit=20'].map(async (path) => {
          const res = await fetch(`${collector.url}${path}`);
          if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
          return (await res.json()) as { totals?: { calls: number } };
        }),
      );
      const used = process.cpuUsage(cpu);
      return {
        ms: performance.now() - t,
        cpuMs: (used.user + used.system) / 1000,
        calls: overview!.totals!.calls,
      };
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const [name, ms] of RANGES) {
      const cold = await openOverview(ms);
      const runs: Array<{ ms: number; cpuMs: number }> = [];
      for (let i = 0; i < 5; i++) runs.push(await openOverview(ms));
      loads.push({
        range: name,
        coldMs: cold.ms,
        medianMs: median(runs.map((r) => r.ms)),
        medianCpuMs: median(runs.map((r) => r.cpuMs)),
        calls: cold.calls,
      });
    }
  } finally {
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  const markdown = [
    `## Web console (embedded ClickHouse, ${size.toLocaleString('en-US')} calls over 24 h)`,
    '',
    `Installed size added: ${kib(assetBytes)} of built assets (${files.size} files; ${kib(gzipBytes)} gzipped), no runtime dependency.`,
    `Data generation: ${generation.seconds.toFixed(1)} s. Machine load average when it started: ${load.toFixed(1)}.`,
    '',
    '| overview range | calls in range | first load, ms | median of 5 loads, ms | CPU per load (median), ms |',
    '|---|---:|---:|---:|---:|',
    ...loads.map(
      (l) =>
        `| ${l.range} | ${l.calls.toLocaleString('en-US')} | ${l.coldMs.toFixed(0)} | ${l.medianMs.toFixed(0)} | ${l.medianCpuMs.toFixed(0)} |`,
    ),
  ].join('\n');
  return {
    name: 'console',
    markdown,
    data: {
      calls: size,
      loadAverage: load,
      assetBytes,
      gzipBytes,
      files: files.size,
      generationSeconds: generation.seconds,
      loads,
    },
  };
}

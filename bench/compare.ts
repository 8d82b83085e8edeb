import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareCohorts, compareOptionsSchema } from '../collector/src/compare/compare.js';
import { insertSyntheticCohort, type SyntheticCohort } from '../collector/src/compare/seed.js';
import { openClickHouse } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import type { BenchResult } from './types.js';

/**
 * `compare` quality and speed on embedded ClickHouse. False verdicts: for each seed, two cohorts
 * drawn from the same distributions (300 calls each, scores included); a false verdict is any
 * metric called better or worse (issue 17: at most 5% of seeds). Speed: two cohorts of 100k calls
 * each (scores on every successful call), median of 5 runs after a warm-up.
 */
const T0 = Date.parse('2026-11-20T00:00:00Z');
const BASE: Omit<SyntheticCohort, 'promptName' | 'promptVersion' | 'seed' | 'calls'> = {
  project: 'bench',
  model: 'gpt-4o',
  costUsd: 0.01,
  latencyMs: 1000,
  errorRate: 0.03,
  outputTokens: 200,
  score: 0.8,
  scoreName: 'helpfulness',
  startMs: T0,
};

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const seeds = options.quick ? 40 : 200;
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-compare-'));
  const client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
  const opts = compareOptionsSchema.parse({});
  const range = { from: T0, to: T0 + 86_400_000 };
  try {
    await migrate(client);
    let falseVerdicts = 0;
    const falseMetrics: Record<string, number> = {};
    for (let s = 0; s < seeds; s++) {
      const promptName = `null-${s}`;
      await insertSyntheticCohort(client, {
        ...BASE,
        calls: 300,
        promptName,
        promptVersion: '1',
        seed: 2 * s + 1000,
      });
      await insertSyntheticCohort(client, {
        ...BASE,
        calls: 300,
        promptName,
        promptVersion: '2',
        seed: 2 * s + 1001,
      });
      const c = await compareCohorts(
        client,
        'bench',
        { ...range, promptName, promptVersion: '1' },
        { ...range, promptName, promptVersion: '2' },
        opts,
      );
      const wrong = c.metrics.filter((m) => m.verdict === 'better' || m.verdict === 'worse');
      if (wrong.length) falseVerdicts++;
      for (const m of wrong) falseMetrics[m.metric] = (falseMetrics[m.metric] ?? 0) + 1;
      if ((s + 1) % 20 === 0) process.stderr.write(`compare: ${s + 1}/${seeds} null seeds\n`);
    }

    const big = 100_000;
    await insertSyntheticCohort(client, {
      ...BASE,
      calls: big,
      promptName: 'big',
      promptVersion: '1',
      seed: 1,
    });
    await insertSyntheticCohort(client, {
      ...BASE,
      calls: big,
      promptName: 'big',
      promptVersion: '2',
      seed: 2,
      costUsd: 0.002,
      latencyMs: 700,
    });
    const a = { ...range, promptName: 'big', promptVersion: '1' };
    const b = { ...range, promptName: 'big', promptVersion: '2' };
    // Background merges of the inserts above would be counted in this process's CPU time.
    for (const table of ['llm_calls', 'scores'])
      await client.command({ query: `OPTIMIZE TABLE ${table} FINAL` });
    await compareCohorts(client, 'bench', a, b, opts);
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let summary = '';
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      // Embedded ClickHouse runs in this process: its threads' CPU time is counted here too.
      const cpu = process.cpuUsage();
      summary = (await compareCohorts(client, 'bench', a, b, opts)).summary;
      const used = process.cpuUsage(cpu);
      times.push(performance.now() - t);
      cpuTimes.push((used.user + used.system) / 1000);
    }
    times.sort((x, y) => x - y);
    cpuTimes.sort((x, y) => x - y);
    const medianMs = times[2]!;
    const medianCpuMs = cpuTimes[2]!;
    const rate = falseVerdicts / seeds;
    const data = {
      seeds,
      falseVerdicts,
      falseVerdictRate: rate,
      falseMetrics,
      bigCohortCalls: big,
      medianMs,
      times,
      summary,
    };
    const markdown = [
      '## compare: false verdicts with no planted difference, and speed on 2 × 100k calls (embedded ClickHouse)',
      '',
      '| null seeds (2 × 300 calls each) | seeds with any false verdict | rate | target | 2 × 100k calls: median of 5, wall ms | CPU ms (all threads) | target |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      `| ${seeds} | ${falseVerdicts} | ${(rate * 100).toFixed(1)}% | ≤ 5% | ${medianMs.toFixed(0)} | ${medianCpuMs.toFixed(0)} | < 1000 wall |`,
      '',
      `False verdicts by metric: ${
        Object.entries(falseMetrics)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }.`,
      `Verdict on the 100k cohorts (B planted 80% cheaper, 30% faster): ${summary}`,
    ].join('\n');
    return { name: 'compare', markdown, data };
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

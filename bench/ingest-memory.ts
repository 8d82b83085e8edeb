import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBatch, metric, rssOf, startChild } from './ingest.js';
import type { BenchResult } from './types.js';

/**
 * Collector memory under big concurrent exports, per `ingest.limits.maxInFlightBytes`: several
 * senders each post a ~14 MB export (8 000 LLM spans) at once, in rounds. The in-flight budget,
 * not the request size, should bound the peak: this measures the peak RSS over the idle
 * collector and divides it by the bytes the budget lets in at once, which is the factor
 * docs/operations.md uses for the worst case.
 */
const SPANS_PER_BATCH = 500;
const BATCHES_PER_REQUEST = 16;
const SENDERS = 4;
const MiB = 1024 * 1024;

interface Run {
  budgetMiB: number;
  requestMiB: number;
  offeredMiB: number;
  idleRssMiB: number;
  peakRssMiB: number;
  accepted: number;
  refused: number;
  /** (peak − idle) / min(offered, budget). */
  perInFlightByte: number;
}

async function measure(budgetMiB: number, rounds: number, random: () => number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-memory-'));
  const { proc, url } = await startChild(dir, `  limits:\n    maxInFlightBytes: ${budgetMiB * MiB}\n`);
  const pid = proc.pid ?? 0;
  let batchIndex = 0;
  // Distinct batch indexes: every span id is new (the collector stores a span once).
  const request = (): Buffer =>
    Buffer.concat(Array.from({ length: BATCHES_PER_REQUEST }, () => makeBatch(batchIndex++, random)));
  try {
    const post = (body: Buffer) =>
      fetch(`${url}/v1/traces`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-protobuf' },
      }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
    await post(makeBatch(1_000_000, random)); // warm-up: worker threads, first parts
    while ((await metric(url, 'llmwatch_ingest_queue_spans')) > 0)
      await new Promise((r) => setTimeout(r, 100));
    const idle = rssOf(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 20);
    let accepted = 0;
    let refused = 0;
    let requestBytes = 0;
    for (let round = 0; round < rounds; round++) {
      const bodies = Array.from({ length: SENDERS }, request);
      requestBytes = bodies[0]?.length ?? 0;
      const statuses = await Promise.all(bodies.map(post));
      accepted += statuses.filter((s) => s === 200).length;
      refused += statuses.filter((s) => s === 429 || s === 503).length;
      while ((await metric(url, 'llmwatch_ingest_queue_spans')) > 0)
        await new Promise((r) => setTimeout(r, 100));
    }
    clearInterval(sampler);
    const offered = requestBytes * SENDERS;
    return {
      budgetMiB,
      requestMiB: requestBytes / MiB,
      offeredMiB: offered / MiB,
      idleRssMiB: idle / MiB,
      peakRssMiB: peak / MiB,
      accepted,
      refused,
      perInFlightByte: (peak - idle) / Math.min(offered, budgetMiB * MiB),
    };
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const rounds = options.quick ? 2 : 4;
  let seed = 7;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  const runs: Run[] = [];
  for (const budgetMiB of [128, 32]) runs.push(await measure(budgetMiB, rounds, random));
  const mib = (n: number) => n.toFixed(0);
  const markdown = [
    '## Collector memory under big concurrent exports (ingest.limits.maxInFlightBytes)',
    '',
    `${SENDERS} senders post one ${mib(runs[0]?.requestMiB ?? 0)} MB export each (${SPANS_PER_BATCH * BATCHES_PER_REQUEST} LLM spans) at once, ${rounds} rounds, collector in a child process (embedded ClickHouse, worker threads).`,
    '',
    '| in-flight budget | offered at once | idle RSS | peak RSS | peak − idle per in-flight byte | accepted / refused requests |',
    '|---:|---:|---:|---:|---:|---:|',
    ...runs.map(
      (r) =>
        `| ${r.budgetMiB} MiB | ${mib(r.offeredMiB)} MiB | ${mib(r.idleRssMiB)} MiB | ${mib(r.peakRssMiB)} MiB | ${r.perInFlightByte.toFixed(1)}× | ${r.accepted} / ${r.refused} |`,
    ),
  ].join('\n');
  return { name: 'ingest-memory', markdown, data: { runs, rounds } };
}

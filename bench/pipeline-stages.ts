import { parseConfig } from '../collector/src/config/index.js';
import { computeFeatures } from '../collector/src/enrich/features.js';
import { applyPiiPolicy } from '../collector/src/enrich/pii.js';
import { decodeProtobuf } from '../collector/src/ingest/decode.js';
import { DEFAULT_INGEST_LIMITS } from '../collector/src/ingest/limits.js';
import { defaultStages } from '../collector/src/ingest/pipeline.js';
import { callRow, traceRow, type CallFeatures } from '../collector/src/ingest/rows.js';
import {
  contentHeldByCall,
  normalizeSpan,
  seededRandom,
  type DecodedSpan,
  type LlmCall,
} from '../packages/core/src/index.js';
import { silentLogger } from '../collector/src/logging.js';
import { WORKER_YOUNG_GENERATION_MB, workerPool } from '../collector/src/ingest/process-pool.js';
import { makeBatch } from './ingest.js';
import type { BenchResult } from './types.js';

/**
 * CPU µs per span of each ingest pipeline stage on one thread, on the same spans as the ingest
 * bench (GenAI chat spans, ~1 KB prompts). Each stage runs on its real input (the output of the
 * stage before), warmed up, then timed with process.cpuUsage over several rounds; the median
 * round is reported because the machine is shared.
 */
const HASH_KEY = 'bench-pipeline-stages';

interface StageTiming {
  stage: string;
  cpuUsPerSpan: number;
  minCpuUsPerSpan: number;
}

function measure(items: number, rounds: number, fn: () => void): { median: number; min: number } {
  fn(); // warm-up (JIT, caches)
  fn();
  const perSpan: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const before = process.cpuUsage();
    fn();
    const used = process.cpuUsage(before);
    perSpan.push((used.user + used.system) / items);
  }
  perSpan.sort((a, b) => a - b);
  return { median: perSpan[Math.floor(perSpan.length / 2)] ?? 0, min: perSpan[0] ?? 0 };
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const rounds = options.quick ? 5 : 11;
  const random = seededRandom(42);
  const bodies = Array.from({ length: options.quick ? 4 : 8 }, (_, i) => makeBatch(i, random));
  const config = parseConfig({});
  const stages = defaultStages(config, HASH_KEY);

  const spans: DecodedSpan[] = bodies.flatMap((b) => decodeProtobuf(b, DEFAULT_INGEST_LIMITS).spans);
  const n = spans.length;
  const calls = spans.map((s) => normalizeSpan(s, 'bench')).filter((c): c is LlmCall => c !== null);
  const priced = calls.map((c) => stages.priceCall(c));
  const policed = priced.map((c, i) => applyPiiPolicy(c, spans[i] as DecodedSpan, config.pii, HASH_KEY));
  const features = policed.map((p) => computeFeatures(p.call as LlmCall));

  let sink = 0;
  const timings: StageTiming[] = [];
  const add = (stage: string, items: number, fn: () => void) => {
    const m = measure(items, rounds, fn);
    timings.push({ stage, cpuUsPerSpan: m.median, minCpuUsPerSpan: m.min });
  };
  add('decode (protobuf + validate)', n, () => {
    for (const b of bodies) sink += decodeProtobuf(b, DEFAULT_INGEST_LIMITS).spans.length;
  });
  add('normalizeSpan', n, () => {
    for (const s of spans) sink += normalizeSpan(s, 'bench') ? 1 : 0;
  });
  add('priceCall', calls.length, () => {
    for (const c of calls) sink += stages.priceCall(c).inputTokens;
  });
  add('applyPiiPolicy', n, () => {
    for (let i = 0; i < n; i++)
      sink += applyPiiPolicy(priced[i] ?? null, spans[i] as DecodedSpan, config.pii, HASH_KEY).findings
        .length;
  });
  add('computeFeatures', policed.length, () => {
    for (const p of policed) sink += computeFeatures(p.call as LlmCall).inputChars;
  });
  add('rows (trace + call)', n, () => {
    for (let i = 0; i < n; i++) {
      const p = policed[i];
      if (!p) continue;
      sink += traceRow('bench', p.span, contentHeldByCall(p.call as LlmCall, p.span.attributes)).length;
      sink += callRow(p.call as LlmCall, features[i] as CallFeatures, { types: [], count: 0 }).length;
    }
  });
  if (sink === 42) process.stderr.write('');

  // The whole export (decode → rows → spool blocks) as the collector runs it: in an ingest
  // worker, garbage collection included. This thread only waits, so the process's CPU is the
  // worker's and its GC helpers'.
  const inWorker: { youngGeneration: string; cpuUsPerSpan: number; minCpuUsPerSpan: number }[] = [];
  for (const youngGenerationMb of [null, WORKER_YOUNG_GENERATION_MB]) {
    const pool = workerPool(1, config, HASH_KEY, silentLogger, youngGenerationMb);
    try {
      const round = async () => {
        // A fresh body each time, as a request brings: the pool moves a body's memory to the worker.
        for (const b of bodies) await pool.run('traces', 'protobuf', Buffer.from(b), 'bench');
      };
      for (let w = 0; w < 3; w++) await round();
      const perSpan: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const before = process.cpuUsage();
        await round();
        const used = process.cpuUsage(before);
        perSpan.push((used.user + used.system) / n);
      }
      perSpan.sort((a, b) => a - b);
      inWorker.push({
        youngGeneration:
          youngGenerationMb === null ? "V8's default" : `${youngGenerationMb} MiB (the collector's)`,
        cpuUsPerSpan: perSpan[Math.floor(perSpan.length / 2)] ?? 0,
        minCpuUsPerSpan: perSpan[0] ?? 0,
      });
    } finally {
      await pool.close();
    }
  }

  const total = timings.reduce((t, s) => t + s.cpuUsPerSpan, 0);
  const lines = [
    '## Pipeline stages (CPU µs per span, one thread)',
    '',
    `${n} GenAI chat spans with ~1 KB prompts (the ingest bench's generator), ${rounds} rounds, median (min).`,
    '',
    '| stage | CPU µs/span | min |',
    '|---|---:|---:|',
    ...timings.map((t) => `| ${t.stage} | ${t.cpuUsPerSpan.toFixed(1)} | ${t.minCpuUsPerSpan.toFixed(1)} |`),
    `| **total** | ${total.toFixed(1)} | |`,
    '',
    "A whole export in an ingest worker (decode to spool blocks, garbage collection included), by the worker's young generation:",
    '',
    '| young generation | CPU µs/span | min |',
    '|---|---:|---:|',
    ...inWorker.map(
      (w) => `| ${w.youngGeneration} | ${w.cpuUsPerSpan.toFixed(1)} | ${w.minCpuUsPerSpan.toFixed(1)} |`,
    ),
  ];
  return {
    name: 'pipeline-stages',
    markdown: lines.join('\n'),
    data: { spans: n, rounds, timings, totalCpuUsPerSpan: total, inWorker },
  };
}

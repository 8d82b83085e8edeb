import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../collector/src/config/index.js';
import { diagnoseOptions } from '../collector/src/rag/config.js';
import { diagnoseRange } from '../collector/src/rag/diagnose.js';
import { RAG_VERDICTS } from '../collector/src/rag/verdict.js';
import { startCollector } from '../collector/src/server/collector.js';
import { queryRows } from '../collector/src/storage/clickhouse.js';
import { otlpJson, ragTraffic, type RagLabel } from '../test/helpers/rag-traffic.js';
import type { BenchResult } from './types.js';

/**
 * RAG diagnosis quality and cost (docs/rag.md): labelled synthetic RAG traffic from many seeds
 * (test/helpers/rag-traffic.ts: a random-vocabulary knowledge base, paraphrased questions, hits,
 * misses and empty retrievals, grounded, invented and refused answers, GenAI and OpenInference
 * spans, 15% of retrievers sending scores only) goes through a real collector over OTLP into
 * embedded ClickHouse; the diagnosis job then classifies every trace, and its verdicts are
 * compared with the labels: accuracy, per-verdict precision and recall, and diagnosis time per trace.
 */
const HOUR = 3_600_000;

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const seeds = options.quick ? 4 : 40;
  const tracesPerSeed = 150;
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-rag-'));
  const collector = await startCollector(
    parseConfig({
      server: { port: 0 },
      storage: { dataDir: join(dir, 'data') },
      ingest: { flushIntervalMs: 50 },
    }),
  );
  const client = collector.deps.clickhouse.query;
  const config = parseConfig({});
  const labels = new Map<string, RagLabel>();
  const confusion = new Map<string, number>();
  let diagnoseMs = 0;
  let diagnosed = 0;
  try {
    for (let seed = 1; seed <= seeds; seed++) {
      // Each seed gets its own 4 hours, all within the tables' retention; lookbacks see the other
      // seeds' documents too, as a knowledge base shared by several pipelines would.
      const startMs = Date.now() - (seeds - seed + 2) * 4 * HOUR;
      const traffic = ragTraffic({ seed, traces: tracesPerSeed, startMs, spreadMs: 2 * HOUR });
      for (const t of traffic) labels.set(t.traceId, t.label);
      const spans = traffic.flatMap((t) => t.spans);
      for (let i = 0; i < spans.length; i += 600) {
        const res = await fetch(`${collector.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: otlpJson(spans.slice(i, i + 600)),
        });
        if (res.status !== 200) throw new Error(`export answered ${res.status}: ${await res.text()}`);
      }
      const expected = traffic.length;
      for (let tries = 0; ; tries++) {
        const [row] = await queryRows<{ n: number }>(
          client,
          `SELECT toUInt32(uniqExact(TraceId)) AS n FROM llm_calls WHERE Timestamp >= fromUnixTimestamp64Milli({from:Int64}) AND Timestamp < fromUnixTimestamp64Milli({to:Int64})`,
          { from: startMs, to: startMs + 3 * HOUR },
        );
        if ((row?.n ?? 0) >= expected) break;
        if (tries > 300) throw new Error(`seed ${seed}: only ${row?.n} of ${expected} traces stored`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const started = performance.now();
      const result = await diagnoseRange(
        client,
        { fromMs: startMs - HOUR, toMs: startMs + 3 * HOUR },
        diagnoseOptions(config.detection.rag),
      );
      diagnoseMs += performance.now() - started;
      diagnosed += result.diagnosed;
      if (result.diagnosed !== traffic.length)
        throw new Error(`seed ${seed}: ${result.diagnosed} of ${traffic.length} traces diagnosed`);
      process.stderr.write(`rag: seed ${seed}/${seeds}: ${result.diagnosed} traces diagnosed\n`);
    }
    const verdicts = await queryRows<{ TraceId: string; Verdict: string }>(
      client,
      'SELECT TraceId, Verdict FROM rag_diagnoses FINAL',
    );
    for (const v of verdicts) {
      const label = labels.get(v.TraceId);
      if (!label) continue;
      const key = `${label}\t${v.Verdict}`;
      confusion.set(key, (confusion.get(key) ?? 0) + 1);
    }
  } finally {
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const count = (label?: string, verdict?: string) =>
    [...confusion]
      .filter(([k]) => {
        const [l, v] = k.split('\t');
        return (label === undefined || l === label) && (verdict === undefined || v === verdict);
      })
      .reduce((a, [, n]) => a + n, 0);
  const total = count();
  const correct = RAG_VERDICTS.reduce((a, v) => a + count(v, v), 0);
  const perVerdict = RAG_VERDICTS.map((v) => {
    const tp = count(v, v);
    const planted = count(v);
    const called = count(undefined, v);
    return {
      verdict: v,
      planted,
      precision: called ? tp / called : null,
      recall: planted ? tp / planted : null,
    };
  });
  const f = (x: number | null) => (x === null ? '-' : x.toFixed(3));
  const markdown = [
    `## rag — RAG verdicts on labelled synthetic traffic`,
    '',
    `${seeds} seeds × ${tracesPerSeed} traces (+ 24 warm-up traces each) through OTLP into embedded ClickHouse; ${total} traces judged.`,
    '',
    `**Accuracy ${(correct / total).toFixed(3)}** (${correct}/${total}); diagnosis ${(diagnoseMs / Math.max(1, diagnosed)).toFixed(2)} ms per trace (job incl. storage reads and the retrieval-miss lookups).`,
    '',
    '| verdict | planted | precision | recall |',
    '|---|---:|---:|---:|',
    ...perVerdict.map((p) => `| ${p.verdict} | ${p.planted} | ${f(p.precision)} | ${f(p.recall)} |`),
    '',
    'Confusion (planted → verdict): ' +
      [...confusion]
        .filter(([k]) => k.split('\t')[0] !== k.split('\t')[1])
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k.replace('\t', '→')} ${n}`)
        .join(', '),
  ].join('\n');
  return {
    name: 'rag',
    markdown,
    data: {
      seeds,
      tracesPerSeed,
      total,
      correct,
      accuracy: correct / total,
      perVerdict,
      msPerTrace: diagnoseMs / Math.max(1, diagnosed),
      confusion: Object.fromEntries(confusion),
    },
  };
}

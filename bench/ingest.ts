import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../collector/src/config/index.js';
import { decodeProtobuf } from '../collector/src/ingest/decode.js';
import { DEFAULT_INGEST_LIMITS } from '../collector/src/ingest/limits.js';
import { ExportTraceServiceRequest } from '../collector/src/ingest/otlp-proto.js';
import { defaultStages, runPipeline } from '../collector/src/ingest/pipeline.js';
import {
  TABLES,
  emptyRows,
  traceRow,
  type Row,
  type TableName,
  type TableRows,
} from '../collector/src/ingest/rows.js';
import { encodeRecord, rowsBuffer } from '../collector/src/ingest/spool.js';
import { insertTableRows } from '../collector/src/ingest/writer.js';
import { dropStoredSpans } from '../collector/src/ingest/dedup.js';
import { openClickHouse, queryRows } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import { WIDE_ROW_TABLES } from '../collector/src/storage/migrations/011-compact-inserts.js';
import type { BenchResult } from './types.js';
import { seededRandom } from '../packages/core/src/index.js';
import { decodedSpan } from '../packages/core/test/decoded-span.js';

/**
 * Collector ingest (docs/architecture.md#performance-targets): OTLP protobuf batches of LLM spans with ~1 KB prompts, sent over
 * loopback to `llmwatch start` on embedded ClickHouse (a child process, so its RSS is its own).
 *
 * 1. Sustained: closed loop, 8 senders; the rate counts spans acknowledged AND inserted (the run
 *    ends when the queue has drained), honouring 429 backpressure.
 * 2. Raw: the same rows (produced by the collector's own pipeline), pre-serialized as the writer
 *    inserts them (ingest/rows.ts), inserted straight into embedded ClickHouse in this process, a
 *    full spool segment (`ingest.batchMaxRows`) per insert — the ceiling. The same at other insert
 *    sizes and with ClickHouse's default part format shows what those choices cost.
 * 3. Overload: open loop at 3x the sustained rate; the collector must answer 429 and keep its
 *    memory bounded instead of queueing without limit.
 */
const here = dirname(fileURLToPath(import.meta.url));
/** Spans per insert when the collector is busy: a full spool segment, as configured by default. */
export const INSERT_SPANS = parseConfig({}).ingest.batchMaxRows;
const REPO = resolve(here, '..');
export const BATCH_SPANS = 500;
const SENDERS = 8;

const WORDS =
  'the customer asked about their order refund policy shipping delay invoice account password reset subscription plan upgrade billing cycle support ticket escalation summary translate explain code review function error stack trace database query latency dashboard weekly report revenue forecast marketing email draft please'.split(
    ' ',
  );

function text(random: () => number, chars: number): string {
  let out = '';
  while (out.length < chars) out += `${WORDS[Math.floor(random() * WORDS.length)]} `;
  return out.slice(0, chars);
}

/** One OTLP export of BATCH_SPANS GenAI chat spans, ~1 KB prompt each, unique ids. */
export function makeBatch(index: number, random: () => number): Buffer {
  const now = BigInt(Date.now()) * 1_000_000n;
  const spans = Array.from({ length: BATCH_SPANS }, (_, i) => {
    const n = index * BATCH_SPANS + i + 1;
    const start = now - BigInt(Math.floor(random() * 60_000)) * 1_000_000n;
    const latency = BigInt(300 + Math.floor(random() * 2_000)) * 1_000_000n;
    const prompt = text(random, 1_000);
    return {
      traceId: Buffer.from(
        `${n.toString(16).padStart(24, '0')}${(index + 1).toString(16).padStart(8, '0')}`,
        'hex',
      ),
      spanId: Buffer.from(n.toString(16).padStart(16, '0'), 'hex'),
      name: 'chat gpt-4o-mini',
      kind: 3,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + latency).toString(),
      attributes: [
        ['gen_ai.operation.name', { stringValue: 'chat' }],
        ['gen_ai.provider.name', { stringValue: 'openai' }],
        ['gen_ai.request.model', { stringValue: 'gpt-4o-mini' }],
        ['gen_ai.response.model', { stringValue: 'gpt-4o-mini-2024-07-18' }],
        ['gen_ai.response.id', { stringValue: `chatcmpl-${n}` }],
        ['gen_ai.usage.input_tokens', { intValue: 200 + Math.floor(random() * 300) }],
        ['gen_ai.usage.output_tokens', { intValue: 20 + Math.floor(random() * 200) }],
        ['gen_ai.response.finish_reasons', { arrayValue: { values: [{ stringValue: 'stop' }] } }],
        [
          'gen_ai.input.messages',
          { stringValue: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: prompt }] }]) },
        ],
        [
          'gen_ai.output.messages',
          {
            stringValue: JSON.stringify([
              {
                role: 'assistant',
                parts: [{ type: 'text', content: text(random, 200) }],
                finish_reason: 'stop',
              },
            ]),
          },
        ],
        ['user.id', { stringValue: `user-${n % 997}` }],
        ['session.id', { stringValue: `session-${n % 4999}` }],
      ].map(([key, value]) => ({ key, value })),
      status: { code: 0 },
    };
  });
  const message = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'bench-app' } },
            { key: 'deployment.environment.name', value: { stringValue: 'bench' } },
          ],
        },
        scopeSpans: [{ scope: { name: 'bench', version: '1.0.0' }, spans }],
      },
    ],
  };
  const codec = ExportTraceServiceRequest as unknown as {
    fromObject(o: unknown): unknown;
    encode(m: unknown): { finish(): Uint8Array };
  };
  return Buffer.from(codec.encode(codec.fromObject(message)).finish());
}

/**
 * CPU seconds of each thread group of a process (threads named alike summed: chDB's pools), from
 * /proc: where a sustained run's cores went. Node names all its threads alike; they are kept one
 * by one (`node:<tid>`) for `nodeThreadGroups` to tell the ingest workers from the rest.
 */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const comm = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim();
      const name = task === String(pid) ? 'main thread' : comm === 'node' ? `node:${task}` : comm;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      out.set(name, (out.get(name) ?? 0) + ticks / 100);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/**
 * Node's unnamed threads grouped: the ingest worker is by far the busiest of them (one on two
 * cores, the collector's default of cores − 1), the others are libuv's pool (chDB's calls, spool
 * I/O) and V8's platform threads (garbage collection helpers).
 */
function nodeThreadGroups(threads: Map<string, number>): Map<string, number> {
  const workers = Math.max(1, availableParallelism() - 1);
  const node = [...threads].filter(([name]) => name.startsWith('node:')).sort((a, b) => b[1] - a[1]);
  const out = new Map(
    [...threads]
      .filter(([name]) => !name.startsWith('node:'))
      // chDB runs a query it is handed (the writer's inserts) on threads it leaves unnamed.
      .map(([name, seconds]) => [
        name === 'Unknown' ? "Unknown (chDB's query threads: inserts)" : name,
        seconds,
      ]),
  );
  const sum = (list: [string, number][]) => list.reduce((n, [, seconds]) => n + seconds, 0);
  out.set(
    `ingest worker${workers > 1 ? 's' : ''} (the busiest Node thread${workers > 1 ? 's' : ''})`,
    sum(node.slice(0, workers)),
  );
  out.set('other Node threads (libuv: chDB calls, spool I/O; V8: GC helpers)', sum(node.slice(workers)));
  return out;
}

function cpuBetween(before: Map<string, number>, after: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, seconds] of after) out.set(name, seconds - (before.get(name) ?? 0));
  return out;
}

export function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** The collector as a child process on `dir`; `ingestYaml` adds lines under `ingest:` (indented). */
export async function startChild(dir: string, ingestYaml = ''): Promise<{ proc: ChildProcess; url: string }> {
  const configFile = join(dir, 'llmwatch.config.yaml');
  writeFileSync(
    configFile,
    // Detection runs on its own schedule in a deployment; in an ingest benchmark it is noise.
    `logging:\n  level: warn\ningest:\n  queueMaxSpans: 50000\n${ingestYaml}detection:\n  enabled: false\n`,
  );
  const proc = spawn(
    process.execPath,
    [
      // LLMWATCH_BENCH_CPU_PROF=dir profiles the collector (written when it exits on SIGTERM).
      ...(process.env.LLMWATCH_BENCH_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LLMWATCH_BENCH_CPU_PROF}`]
        : []),
      '--conditions=@llmwatch/source',
      '--import',
      'tsx',
      'collector/src/cli/main.ts',
      'start',
      '--config',
      configFile,
      '--port',
      '0',
      '--data',
      join(dir, 'data'),
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolveStart, rejectStart) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolveStart({ proc, url: match[1] });
    });
    proc.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-4000);
    });
    proc.once('exit', (code) => rejectStart(new Error(`collector exited with ${code}: ${err}`)));
  });
}

/** A metric of a /metrics text summed over its label sets, or over those with `label` (`table="llm_calls"`); 0 when absent. */
function metricIn(body: string, name: string, label = ''): number {
  let sum = 0;
  for (const match of body.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm')))
    if (!label || match[1]?.includes(label)) sum += Number(match[2]);
  return sum;
}

/** A metric of the collector at `url` (see metricIn). */
export async function metric(url: string, name: string): Promise<number> {
  return metricIn(await (await fetch(`${url}/metrics`)).text(), name);
}

/** What the writer did so far: seconds spent on span lookups and inserts, llm_calls rows and inserts. */
async function writerTotals(url: string): Promise<{ busySeconds: number; calls: number; inserts: number }> {
  const body = await (await fetch(`${url}/metrics`)).text();
  return {
    busySeconds: metricIn(body, 'llmwatch_ingest_insert_duration_seconds_sum'),
    calls: metricIn(body, 'llmwatch_ingest_rows_inserted_total', 'table="llm_calls"'),
    inserts: metricIn(body, 'llmwatch_ingest_insert_duration_seconds_count', 'table="llm_calls"'),
  };
}

/**
 * Every send carries trace ids never sent before: the collector stores a span once, so sending
 * the pool's batches again unchanged would measure its deduplication, not ingest. The last 4
 * bytes of each trace id (the batch index at build time) become a per-send counter.
 */
const traceIdOffsets = new WeakMap<Buffer, number[]>();
let sends = 0;
function withFreshTraceIds(body: Buffer): Buffer {
  let offsets = traceIdOffsets.get(body);
  if (!offsets) {
    const message = ExportTraceServiceRequest.decode(body) as {
      resourceSpans: { scopeSpans: { spans: { traceId: Uint8Array }[] }[] }[];
    };
    offsets = [];
    let from = 0;
    for (const rs of message.resourceSpans)
      for (const ss of rs.scopeSpans)
        for (const span of ss.spans) {
          from = body.indexOf(span.traceId, from);
          offsets.push(from);
          from += span.traceId.length;
        }
    traceIdOffsets.set(body, offsets);
  }
  const copy = Buffer.from(body);
  sends++;
  for (const offset of offsets) copy.writeUInt32BE(sends, offset + 12);
  return copy;
}

/**
 * Posts as OpenTelemetry's Node OTLP/HTTP exporter does, through node:http with kept-alive
 * connections. The senders share the collector's two cores: `fetch` spent three to five times
 * as much CPU per 1 MB export, taken from the collector being measured.
 */
const senderAgent = new Agent({ keepAlive: true });
function send(url: string, pooled: Buffer): Promise<number> {
  const body = withFreshTraceIds(pooled);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/traces`,
      {
        method: 'POST',
        agent: senderAgent,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

interface Phase {
  offeredSpansPerSec: number | null;
  sendSeconds?: number;
  acceptedSpans: number;
  refused: number;
  seconds: number;
  spansPerSec: number;
  p50Ms: number;
  p99Ms: number;
  peakRssBytes: number;
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  const sustainedSeconds = quick ? 8 : 20;
  const overloadSeconds = quick ? 5 : 10;
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-ingest-'));
  const random = seededRandom(42);
  const pool = Array.from({ length: quick ? 16 : 32 }, (_, i) => makeBatch(i, random));
  const bytesPerSpan = pool.reduce((n, b) => n + b.length, 0) / (pool.length * BATCH_SPANS);

  // The raw ceiling is measured before and after the collector runs and the higher one is used:
  // the machine is shared, and the ratio must not flatter the collector.
  const rawBefore = await rawInsert(dir, 'raw-before', pool, quick ? 60_000 : 150_000);
  const { proc, url } = await startChild(dir);
  const pid = proc.pid ?? 0;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  try {
    // Warm-up (JIT, first parts) is not measured; concurrent, so every ingest worker gets jobs.
    for (let round = 0; round < 3; round++)
      await Promise.all(
        Array.from({ length: SENDERS }, (_, i) =>
          send(url, pool[(round * SENDERS + i) % pool.length] as Buffer),
        ),
      );
    while ((await metric(url, 'llmwatch_ingest_queue_spans')) > 0)
      await new Promise((r) => setTimeout(r, 100));

    // ---- 1. sustained, closed loop ----
    peak = rssOf(pid);
    const cpuBefore = threadCpu(pid);
    const writerBefore = await writerTotals(url);
    const senderCpuBefore = process.cpuUsage();
    const latencies: number[] = [];
    let accepted = 0;
    let refused = 0;
    let cursor = 0;
    const started = performance.now();
    const deadline = started + sustainedSeconds * 1000;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (performance.now() < deadline) {
          const body = pool[cursor++ % pool.length] as Buffer;
          const t0 = performance.now();
          const status = await send(url, body);
          if (status === 200) {
            latencies.push(performance.now() - t0);
            accepted += BATCH_SPANS;
          } else {
            refused++;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      }),
    );
    const sendSeconds = (performance.now() - started) / 1000;
    // Sustained means stored: wait for the queue to drain.
    while ((await metric(url, 'llmwatch_ingest_queue_spans')) > 0)
      await new Promise((r) => setTimeout(r, 100));
    const sustainedSecondsTotal = (performance.now() - started) / 1000;
    const senderCpu = process.cpuUsage(senderCpuBefore);
    const writerAfter = await writerTotals(url);
    const writer = {
      busyShare: (writerAfter.busySeconds - writerBefore.busySeconds) / sustainedSecondsTotal,
      spansPerInsert: (writerAfter.calls - writerBefore.calls) / (writerAfter.inserts - writerBefore.inserts),
      senderCores: (senderCpu.user + senderCpu.system) / 1e6 / sustainedSecondsTotal,
    };
    const threads = [...nodeThreadGroups(cpuBetween(cpuBefore, threadCpu(pid)))]
      .filter(([, seconds]) => seconds > 0)
      .sort((a, b) => b[1] - a[1]);
    const cpuSeconds = threads.reduce((n, [, seconds]) => n + seconds, 0);
    latencies.sort((a, b) => a - b);
    const sustained: Phase = {
      offeredSpansPerSec: null,
      acceptedSpans: accepted,
      refused,
      sendSeconds,
      seconds: sustainedSecondsTotal,
      spansPerSec: accepted / sustainedSecondsTotal,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      peakRssBytes: peak,
    };

    // ---- 3. overload: open loop at 3x ----
    peak = rssOf(pid);
    const offered = sustained.spansPerSec * 3;
    const intervalMs = (BATCH_SPANS / offered) * 1000;
    const overLatencies: number[] = [];
    let overAccepted = 0;
    let overRefused = 0;
    let inFlight = 0;
    let skipped = 0;
    const pending: Promise<void>[] = [];
    const overStart = performance.now();
    for (let i = 0; performance.now() - overStart < overloadSeconds * 1000; i++) {
      const due = overStart + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (inFlight >= 512) {
        skipped++;
        continue;
      }
      inFlight++;
      const t0 = performance.now();
      pending.push(
        send(url, pool[i % pool.length] as Buffer)
          .then((status) => {
            if (status === 200) {
              overAccepted += BATCH_SPANS;
              overLatencies.push(performance.now() - t0);
            } else overRefused++;
          })
          .catch(() => {
            overRefused++;
          })
          .finally(() => inFlight--),
      );
    }
    await Promise.all(pending);
    const overSeconds = (performance.now() - overStart) / 1000;
    overLatencies.sort((a, b) => a - b);
    const overload: Phase = {
      offeredSpansPerSec: offered,
      acceptedSpans: overAccepted,
      refused: overRefused + skipped,
      seconds: overSeconds,
      spansPerSec: overAccepted / overSeconds,
      p50Ms: quantile(overLatencies, 0.5),
      p99Ms: quantile(overLatencies, 0.99),
      peakRssBytes: peak,
    };
    clearInterval(sampler);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));

    // ---- 2. raw insert ceiling, same rows ----
    const rawAfter = await rawInsert(dir, 'raw-after', pool, quick ? 60_000 : 150_000);
    const raw = rawAfter.spansPerSec > rawBefore.spansPerSec ? rawAfter : rawBefore;
    // What the writer's insert size and migration 11's part format save the engine, on the same rows.
    const shapes: { label: string; shape: InsertShape }[] = [
      { label: '5,000 spans, compact parts', shape: { spansPerInsert: 5_000 } },
      {
        label: `${INSERT_SPANS.toLocaleString('en-US')} spans, ClickHouse's default part format`,
        shape: { spansPerInsert: INSERT_SPANS, defaultPartFormat: true },
      },
      { label: '20,000 spans, compact parts', shape: { spansPerInsert: 20_000 } },
    ];
    const shaped = [];
    for (const [i, { label, shape }] of shapes.entries())
      shaped.push({
        label,
        ...(await rawInsert(dir, `raw-shape-${i}`, pool, quick ? 60_000 : 120_000, shape)),
      });

    const ratio = sustained.spansPerSec / raw.spansPerSec;
    const costs = stageCosts(pool.slice(0, 8));
    const lookup = await spanLookupCost(dir, quick ? [0, 4_000_000] : [0, 4_000_000, 32_000_000]);
    const mb = (b: number): string => (b / 2 ** 20).toFixed(0);
    const markdown = [
      '## Collector ingest (OTLP protobuf → embedded ClickHouse)',
      '',
      `${BATCH_SPANS} LLM spans per request (~${(bytesPerSpan / 1024).toFixed(1)} KiB protobuf per span, ~1 KB prompt), ${SENDERS} concurrent senders over loopback, collector in a child process; rows per span: ${raw.rowsPerSpan.toFixed(2)} (${raw.tables}).`,
      '',
      '| metric | value |',
      '|---|---|',
      `| sustained ingest, acknowledged and inserted | **${Math.round(sustained.spansPerSec).toLocaleString('en-US')} spans/s** |`,
      `| raw ClickHouse insert of the same rows (pre-serialized as the writer inserts them, ${INSERT_SPANS.toLocaleString('en-US')}-span inserts; best of before/after) | ${Math.round(raw.spansPerSec).toLocaleString('en-US')} spans/s |`,
      `| the same rows as objects through @clickhouse/client (for comparison) | ${Math.round(raw.objectSpansPerSec).toLocaleString('en-US')} spans/s |`,
      `| ratio to raw (target ≥ 70%) | **${(ratio * 100).toFixed(0)}%** |`,
      `| request latency p50 / p99 (${BATCH_SPANS}-span export) | ${sustained.p50Ms.toFixed(1)} / ${sustained.p99Ms.toFixed(1)} ms |`,
      `| 429 answers during the sustained run | ${sustained.refused} |`,
      `| writer busy (span lookups and inserts) / spans per insert (mean) | ${(writer.busyShare * 100).toFixed(0)}% / ${Math.round(writer.spansPerInsert).toLocaleString('en-US')} |`,
      `| the senders (this process) meanwhile, on the same cores | ${writer.senderCores.toFixed(2)} cores |`,
      `| peak RSS, sustained | ${mb(sustained.peakRssBytes)} MiB |`,
      `| 3x overload: offered / accepted | ${Math.round(overload.offeredSpansPerSec ?? 0).toLocaleString('en-US')} / ${Math.round(overload.spansPerSec).toLocaleString('en-US')} spans/s |`,
      `| 3x overload: refused requests (429/503) | ${overload.refused} |`,
      `| 3x overload: accepted p50 / p99 latency | ${overload.p50Ms.toFixed(1)} / ${overload.p99Ms.toFixed(1)} ms |`,
      `| peak RSS at 3x overload (queue bound 50k spans) | ${mb(overload.peakRssBytes)} MiB |`,
      '',
      `The collector process during the sustained run: ${(cpuSeconds / sustainedSecondsTotal).toFixed(2)} cores busy, ${((cpuSeconds * 1e6) / sustained.acceptedSpans).toFixed(0)} CPU µs per span; by thread (µs/span):`,
      '',
      '| threads | CPU µs/span |',
      '|---|---:|',
      ...threads
        .filter(([, seconds]) => seconds / cpuSeconds >= 0.01)
        .map(([name, seconds]) => `| ${name} | ${((seconds * 1e6) / sustained.acceptedSpans).toFixed(0)} |`),
      '',
      'Raw insert by insert shape (same rows, one run each after the collector stopped, this process: Node and the embedded engine):',
      '',
      '| insert | spans/s | CPU µs/span |',
      '|---|---:|---:|',
      ...[
        { label: `${INSERT_SPANS.toLocaleString('en-US')} spans, compact parts (the writer's)`, ...rawAfter },
        ...shaped,
      ].map(
        (r) =>
          `| ${r.label} | ${Math.round(r.spansPerSec).toLocaleString('en-US')} | ${r.cpuMicrosPerSpan.toFixed(0)} |`,
      ),
      '',
      `Span lookup before each insert (ingest/dedup.ts), one ${INSERT_SPANS.toLocaleString('en-US')}-span segment of the last minute against what is already stored (ms per lookup): ${lookup.map((l) => `${(l.stored / 1e6).toFixed(l.busyMinute ? 1 : 0)} M stored${l.busyMinute ? `, ${(l.busyMinute / 1e3).toFixed(0)}k of them in the segment's minute (millisecond clocks)` : ''}: ${l.ms.toFixed(1)}`).join('; ')}.`,
      '',
      'Collector CPU per span by stage (one thread, same spans, µs/span):',
      '',
      '| stage | µs/span |',
      '|---|---|',
      ...Object.entries(costs).map(([stage, us]) => `| ${stage} | ${us.toFixed(1)} |`),
    ].join('\n');
    return {
      name: 'ingest',
      markdown,
      data: {
        sustained,
        overload,
        raw,
        rawBefore,
        rawAfter,
        shaped,
        writer,
        ratio,
        bytesPerSpan,
        costs,
        threadCpuSeconds: Object.fromEntries(threads),
        lookup,
        cpuSeconds,
        quick,
      },
    };
  } finally {
    clearInterval(sampler);
    senderAgent.destroy();
    if (proc.exitCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Where the collector's CPU goes, per span, single thread, on the same spans: the stages of the
 * pipeline one by one (each on the previous stage's output).
 */
function stageCosts(pool: Buffer[]): Record<string, number> {
  const config = parseConfig({});
  const stages = defaultStages(config, 'bench-pii-hash-key');
  const time = (f: () => void, spans: number): number => {
    f();
    const t0 = performance.now();
    f();
    f();
    return ((performance.now() - t0) * 1000) / (2 * spans);
  };
  const decoded = pool.map((b) => decodeProtobuf(b, DEFAULT_INGEST_LIMITS).spans);
  const spans = decoded.flat();
  const n = spans.length;
  const calls = spans.map((sp) => stages.normalizeSpan(sp, 'default'));
  const priced = calls.map((c) => (c ? stages.priceCall(c) : null));
  const policed = spans.map((sp, i) => stages.applyPiiPolicy(priced[i] ?? null, sp));
  const rowsOf = decoded.map((d) => runPipeline(d, 'default', stages).rows);
  return {
    'protobuf decode + validate': time(
      () => pool.forEach((b) => decodeProtobuf(b, DEFAULT_INGEST_LIMITS)),
      n,
    ),
    normalizeSpan: time(() => spans.forEach((sp) => stages.normalizeSpan(sp, 'default')), n),
    priceCall: time(() => calls.forEach((c) => c && stages.priceCall(c)), n),
    applyPiiPolicy: time(() => spans.forEach((sp, i) => stages.applyPiiPolicy(priced[i] ?? null, sp)), n),
    computeFeatures: time(() => policed.forEach((p) => p.call && stages.computeFeatures(p.call)), n),
    'whole pipeline incl. row serialization': time(
      () => decoded.forEach((d) => runPipeline(d, 'default', stages)),
      n,
    ),
    'spool record encoding (rows joined + CRC)': time(() => rowsOf.forEach((r) => encodeRecord(r)), n),
  };
}

/**
 * What the span lookup of each insert costs as stored spans pile up: keys of a busy day (one
 * project, time-ordered, inserted in parts as a live stream is) and a segment of new spans from
 * the last minute, in the rows the writer inserts, looked up as the writer does.
 */
async function spanLookupCost(dir: string, sizes: number[]): Promise<LookupCost[]> {
  const client = await openClickHouse({ mode: 'embedded', dataDir: join(dir, 'lookup') }, 'ingest');
  const out: LookupCost[] = [];
  try {
    await migrate(client);
    const now = Math.floor(Date.now() / 1000);
    const random = seededRandom(7);
    const hex = (n: number) =>
      Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
    let stored = 0;
    for (const size of sizes) {
      const parts = 16;
      for (let p = 0; p < parts && size > stored; p++) {
        const rows = Math.ceil((size - stored) / (parts - p));
        // The day so far ends a minute ago; the segment looked up is the last minute.
        await client.command({
          query: `INSERT INTO stored_spans (ProjectId, Source, Timestamp, TraceId, SpanId)
            SELECT 'default', 'otel_traces',
              fromUnixTimestamp64Nano(toInt64((${now - 86_400} + (${stored} + number) * ${86_340 / size}) * 1e9)),
              lower(hex(randomString(16))), lower(hex(randomString(8)))
            FROM numbers(${rows})`,
        });
        stored += rows;
      }
      const body = rowsBuffer(
        Array.from({ length: INSERT_SPANS }, () =>
          keyRow(now - Math.floor(random() * 60), Math.floor(random() * 1e9), hex(32), hex(16)),
        ),
      );
      out.push({ stored, ms: await lookupMs(client, body) });
    }
    // A busy minute from millisecond clocks, as the sustained run makes it: the segment's spans
    // share their start times with ten stored spans each.
    const busy = 600_000;
    await client.command({
      query: `INSERT INTO stored_spans (ProjectId, Source, Timestamp, TraceId, SpanId)
        SELECT 'default', 'otel_traces', fromUnixTimestamp64Nano(toInt64((${now - 60} * 1000 + number % 60000) * 1e6)),
          lower(hex(randomString(16))), lower(hex(randomString(8)))
        FROM numbers(${busy})`,
    });
    const body = rowsBuffer(
      Array.from({ length: INSERT_SPANS }, () =>
        keyRow(now - 60 + Math.floor(random() * 60), Math.floor(random() * 1000) * 1e6, hex(32), hex(16)),
      ),
    );
    out.push({ stored: stored + busy, ms: await lookupMs(client, body), busyMinute: busy });
  } finally {
    await client.close();
  }
  return out;
}

/** The otel_traces row of a span of the segment looked up: only its key matters to the lookup. */
function keyRow(seconds: number, nanos: number, traceId: string, spanId: string): Row {
  const start = `${seconds}${String(nanos).padStart(9, '0')}`;
  return traceRow(
    'default',
    decodedSpan({ traceId, spanId, startTimeUnixNano: start, endTimeUnixNano: start }),
  );
}

/** A span lookup's cost with `stored` keys, `busyMinute` of them in the segment's minute. */
interface LookupCost {
  stored: number;
  ms: number;
  busyMinute?: number;
}

/** Mean milliseconds of a lookup of `body` (a segment of otel_traces rows), after one unmeasured. */
async function lookupMs(client: Parameters<typeof migrate>[0], body: Buffer): Promise<number> {
  await dropStoredSpans(client, 'otel_traces', body, INSERT_SPANS);
  const rounds = 5;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) await dropStoredSpans(client, 'otel_traces', body, INSERT_SPANS);
  return (performance.now() - started) / rounds;
}

/** How the raw ceiling inserts: spans per insert, and whether fresh parts keep ClickHouse's default format. */
interface InsertShape {
  spansPerInsert: number;
  /** Wide parts from 10 MiB on (ClickHouse's default) instead of migration 11's compact inserts. */
  defaultPartFormat?: boolean;
  /** Also insert the rows as objects through @clickhouse/client, for comparison. */
  objects?: boolean;
}

/** The collector's own rows for OTLP export bodies, per table, as its pipeline hands them to the spool. */
export function pipelineRows(bodies: readonly Buffer[]): TableRows {
  const stages = defaultStages(parseConfig({}), 'bench-pii-hash-key');
  const lines = emptyRows();
  for (const body of bodies) {
    const { rows } = runPipeline(decodeProtobuf(body, DEFAULT_INGEST_LIMITS).spans, 'default', stages);
    for (const table of TABLES) lines[table].push(...rows[table]);
  }
  return lines;
}

/**
 * Fresh parts of the tables migration 11 makes compact turn wide from `bytes` on: ClickHouse's
 * default is 10 MiB, and 0 makes every part wide.
 */
export async function widePartsFrom(client: Parameters<typeof migrate>[0], bytes: number): Promise<void> {
  for (const table of WIDE_ROW_TABLES)
    await client.command({ query: `ALTER TABLE ${table} MODIFY SETTING min_bytes_for_wide_part = ${bytes}` });
}

/** The ceiling: the collector's own rows for the pool, inserted straight into embedded ClickHouse. */
async function rawInsert(
  dir: string,
  name: string,
  pool: Buffer[],
  targetSpans: number,
  shape: InsertShape = { spansPerInsert: INSERT_SPANS, objects: true },
): Promise<{
  spansPerSec: number;
  /** CPU of this process (Node and the embedded engine) per span while inserting. */
  cpuMicrosPerSpan: number;
  /** 0 unless `shape.objects`. */
  objectSpansPerSec: number;
  rowsPerSpan: number;
  spans: number;
  seconds: number;
  tables: string;
}> {
  const lines = pipelineRows(pool);
  const spansInPool = lines.otel_traces.length;
  const rowsPerSpan = TABLES.reduce((n, t) => n + lines[t].length, 0) / spansInPool;
  const client = await openClickHouse({ mode: 'embedded', dataDir: join(dir, name) }, 'ingest');
  try {
    await migrate(client);
    if (shape.defaultPartFormat) await widePartsFrom(client, 10 * 1024 * 1024);
    const batch = shape.spansPerInsert;
    // Bodies are built before the clock starts: this measures the engine, not string joins. An
    // insert larger than the pool takes the pool's rows again.
    const bodies: { table: TableName; body: Buffer; spans: number }[] = [];
    for (let spans = 0; spans < targetSpans; spans += batch) {
      for (const table of TABLES) {
        const ratio = lines[table].length / spansInPool;
        const slice: Row[] = [];
        for (let k = Math.floor(spans * ratio); k < Math.floor((spans + batch) * ratio); k++)
          slice.push(lines[table][k % lines[table].length]!);
        if (slice.length)
          bodies.push({
            table,
            body: rowsBuffer(slice),
            spans: table === 'otel_traces' ? batch : 0,
          });
      }
    }
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let spans = 0;
    for (const [i, { table, body, spans: n }] of bodies.entries()) {
      // The same call the collector's writer makes, minus everything before it.
      await insertTableRows(client, table, body, { insert_deduplication_token: `raw-${i}` });
      spans += n;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuMicrosPerSpan = (cpu.user + cpu.system) / spans;
    const tables = TABLES.filter((t) => lines[t].length).join(' + ');

    const objectSpansPerSec = shape.objects
      ? await objectInsertRate(client, lines, spansInPool, spans, batch)
      : 0;

    // Background merges of these parts must not compete with what is measured next.
    const all = await client.query({
      query: 'SELECT name FROM system.tables WHERE database = currentDatabase()',
      format: 'JSONEachRow',
    });
    for (const { name: table } of await all.json<{ name: string }>()) {
      await client.command({ query: `DROP TABLE IF EXISTS \`${table}\` SYNC` });
    }
    return {
      spansPerSec: spans / seconds,
      cpuMicrosPerSpan,
      objectSpansPerSec,
      rowsPerSpan,
      spans,
      seconds,
      tables,
    };
  } finally {
    await client.close();
  }
}

/**
 * For comparison (docs/architecture.md#dependencies): the same rows as objects through
 * @clickhouse/client, read back as stored, then inserted again into the emptied tables (spans/s).
 */
async function objectInsertRate(
  client: Parameters<typeof migrate>[0],
  lines: TableRows,
  spansInPool: number,
  spans: number,
  batch: number,
): Promise<number> {
  const objectSpans = Math.min(spans, Math.max(2 * batch, Math.floor(spans / 4)));
  const objects: Array<{ table: TableName; values: Record<string, unknown>[]; spans: number }> = [];
  for (const table of TABLES) {
    const ratio = lines[table].length / spansInPool;
    if (ratio === 0) continue;
    const stored = await queryRows<Record<string, unknown>>(
      client,
      `SELECT * FROM ${table} LIMIT {n:UInt64}`,
      {
        n: Math.round(objectSpans * ratio),
      },
    );
    await client.command({ query: `TRUNCATE TABLE ${table}` });
    const perBatch = Math.max(1, Math.round(batch * ratio));
    for (let from = 0; from < stored.length; from += perBatch)
      objects.push({
        table,
        values: stored.slice(from, from + perBatch),
        spans: table === 'otel_traces' ? Math.min(perBatch, stored.length - from) : 0,
      });
  }
  const objectStarted = performance.now();
  for (const [i, { table, values }] of objects.entries()) {
    await client.insert({
      table,
      values,
      format: 'JSONEachRow',
      clickhouse_settings: { insert_deduplication_token: `objects-${i}` },
    });
  }
  return objectSpans / ((performance.now() - objectStarted) / 1000);
}

import type { ChildProcess } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../src/server/collector.js';
import {
  NOW_NS,
  flush,
  killSpawned,
  post,
  protobufExport,
  rows,
  spawnCollector,
  startTestCollector,
  tempDir,
} from './ingest-helpers.js';

const dir = tempDir();
const running: RunningCollector[] = [];
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  killSpawned();
  for (const c of running) await c.close();
});

function spanIdOf(n: number): string {
  return `5a${n.toString(16).padStart(14, '0')}`;
}

describe('durability', () => {
  it('SIGKILL under sustained load: every acknowledged span is stored exactly once after restart', async () => {
    const configFile = join(dir, 'llmwatch.config.yaml');
    // Small batches: inserts, seals and fsyncs are all in flight when the kill lands.
    writeFileSync(
      configFile,
      'ingest:\n  batchMaxRows: 300\n  flushIntervalMs: 100\nlogging:\n  level: warn\n',
    );
    const { proc, url } = await spawnCollector([
      '--config',
      configFile,
      '--port',
      '0',
      '--data',
      join(dir, 'data'),
    ]);
    child = proc;

    const acked: string[] = [];
    let next = 1;
    let stop = false;
    let failures = 0;
    const sender = async (): Promise<void> => {
      while (!stop) {
        const batch = Array.from({ length: 40 }, () => {
          const n = next++;
          return {
            traceId: `7e${n.toString(16).padStart(30, '0')}`,
            spanId: spanIdOf(n),
            start: NOW_NS + BigInt(n),
          };
        });
        try {
          const res = await post(url, protobufExport(batch), { 'content-type': 'application/x-protobuf' });
          if (res.status === 200) acked.push(...batch.map((s) => s.spanId));
        } catch {
          failures++; // The kill: no answer means not acknowledged.
        }
      }
    };
    const senders = Array.from({ length: 4 }, () => sender());
    await new Promise((r) => setTimeout(r, 2_500));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    stop = true;
    await Promise.all(senders);
    expect(acked.length).toBeGreaterThan(500);
    console.log(
      `acked ${acked.length} spans, ${failures} requests without an answer, spool: ${readdirSync(join(dir, 'spool')).join(' ')}`,
    );

    // Restart on the same data directory (and spool): leftovers are replayed before traffic.
    const restarted = await startTestCollector(dir);
    running.push(restarted);
    await flush(restarted);
    const stored = await rows<{ SpanId: string; n: string }>(
      restarted,
      "SELECT SpanId, toString(count()) AS n FROM otel_traces WHERE startsWith(SpanId, '5a') GROUP BY SpanId",
    );
    const counts = new Map(stored.map((r) => [r.SpanId, Number(r.n)]));
    const missing = acked.filter((id) => !counts.has(id));
    const duplicated = stored.filter((r) => r.n !== '1');
    expect({ missing: missing.length, duplicated: duplicated.length }).toEqual({ missing: 0, duplicated: 0 });
    // The spool is empty once everything is in.
    expect(readdirSync(join(dir, 'spool')).filter((f) => f.endsWith('.seg'))).toEqual([]);
  }, 60_000);

  it('keeps acknowledged data on disk while ClickHouse is unreachable and inserts it later', async () => {
    const spoolDir = join(dir, 'spool-remote');
    const remote = await startTestCollector(
      dir,
      { storage: { url: 'http://127.0.0.1:9' }, ingest: { spoolDir } },
      { drainTimeoutMs: 300 },
    );
    const spans = [1, 2, 3].map((i) => ({
      traceId: `9d${i.toString(16).padStart(30, '0')}`,
      spanId: `9d${i.toString(16).padStart(14, '0')}`,
    }));
    const res = await post(remote.url, protobufExport(spans), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(200);
    const ready = await fetch(`${remote.url}/readyz`);
    expect(ready.status).toBe(503);
    await remote.close();
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toHaveLength(1);

    // The same spool, now with reachable storage (the embedded engine stands in for the server).
    const local = running[0];
    if (local) await local.close();
    running.length = 0;
    // workers: 0 covers the in-thread pipeline (the rest of the suite runs the worker pool).
    const recovered = await startTestCollector(dir, { ingest: { spoolDir, workers: 0 } });
    running.push(recovered);
    const stored = await rows<{ SpanId: string }>(
      recovered,
      "SELECT SpanId FROM otel_traces WHERE startsWith(SpanId, '9d') ORDER BY SpanId",
    );
    expect(stored.map((r) => r.SpanId)).toEqual(spans.map((s) => s.spanId));
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([]);
  }, 60_000);

  it('answers 503 with Retry-After when storage is down and the queue is full', async () => {
    const remote = await startTestCollector(
      dir,
      {
        storage: { url: 'http://127.0.0.1:9' },
        ingest: { spoolDir: join(dir, 'spool-503'), queueMaxSpans: 100 },
      },
      { drainTimeoutMs: 200 },
    );
    running.push(remote);
    const batch = (seed: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        traceId: `b${seed}${(i + 1).toString(16).padStart(30, '0')}`,
        spanId: `b${seed}${(i + 1).toString(16).padStart(14, '0')}`,
      }));
    const first = await post(remote.url, protobufExport(batch(1)), {
      'content-type': 'application/x-protobuf',
    });
    expect(first.status).toBe(200);
    // Let the writer notice that storage is unreachable.
    await new Promise((r) => setTimeout(r, 300));
    const second = await post(remote.url, protobufExport(batch(2)), {
      'content-type': 'application/x-protobuf',
    });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect((await fetch(`${remote.url}/readyz`)).status).toBe(503);
  }, 30_000);

  it('answers 429 with Retry-After when the queue is full and storage is fine', async () => {
    const busy = await startTestCollector(dir, {
      // Nothing is sealed for a minute: the first export fills the queue and keeps it full.
      ingest: { spoolDir: join(dir, 'spool-429'), queueMaxSpans: 100, flushIntervalMs: 60_000 },
    });
    running.push(busy);
    const batch = (seed: number) =>
      Array.from({ length: 100 }, (_, i) => ({
        traceId: `a${seed}${(i + 1).toString(16).padStart(30, '0')}`,
        spanId: `a${seed}${(i + 1).toString(16).padStart(14, '0')}`,
      }));
    expect(
      (await post(busy.url, protobufExport(batch(1)), { 'content-type': 'application/x-protobuf' })).status,
    ).toBe(200);
    const refused = await post(busy.url, protobufExport(batch(2)), {
      'content-type': 'application/x-protobuf',
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const metrics = await (await fetch(`${busy.url}/metrics`)).text();
    expect(metrics).toMatch(/llmwatch_ingest_requests_refused_total\{reason="queue_full"\} 1/);
    // Draining frees the queue and the same export is accepted.
    await flush(busy);
    expect(
      (await post(busy.url, protobufExport(batch(2)), { 'content-type': 'application/x-protobuf' })).status,
    ).toBe(200);
  }, 30_000);
});

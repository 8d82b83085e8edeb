import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  NOW_NS,
  flush,
  numberedSpans,
  postSpans,
  rows,
  spawnCollector,
  startTestCollector,
  stopCollectors,
  tempDir,
} from './ingest-helpers.js';

const dir = tempDir();
afterAll(stopCollectors);

function spanIdOf(n: number): string {
  return `5a${n.toString(16).padStart(14, '0')}`;
}

describe('durability', () => {
  it('SIGKILL under sustained load: every acknowledged span is stored exactly once after restart', async () => {
    // Small batches: inserts, seals and fsyncs are all in flight when the kill lands.
    const { proc, url } = await spawnCollector(
      dir,
      'ingest:\n  batchMaxRows: 300\n  flushIntervalMs: 100\nlogging:\n  level: warn\n',
    );

    // The first export starts the worker threads (seconds on a loaded machine): not part of the load.
    expect((await postSpans(url, numberedSpans('7f', 1))).status).toBe(200);
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
          const res = await postSpans(url, batch);
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
      `acked ${acked.length} spans, ${failures} requests without an answer, spool: ${readdirSync(join(dir, 'data', 'spool')).join(' ')}`,
    );

    // Restart on the same data directory (and spool): leftovers are replayed before traffic.
    const restarted = await startTestCollector(dir);
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
    expect(readdirSync(join(dir, 'data', 'spool')).filter((f) => f.endsWith('.seg'))).toEqual([]);
  }, 60_000);

  it('keeps acknowledged data on disk while ClickHouse is unreachable and inserts it later', async () => {
    const spoolDir = join(dir, 'spool-remote');
    const remote = await startTestCollector(
      dir,
      { storage: { url: 'http://127.0.0.1:9' }, ingest: { spoolDir } },
      { drainTimeoutMs: 300 },
    );
    const spans = numberedSpans('9d', 3);
    const res = await postSpans(remote.url, spans);
    expect(res.status).toBe(200);
    const ready = await fetch(`${remote.url}/readyz`);
    expect(ready.status).toBe(503);
    await remote.close();
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toHaveLength(1);

    // The same spool, now with reachable storage (the embedded engine stands in for the server),
    // once the collector the first test restarted has let go of the data directory.
    await stopCollectors();
    // workers: 0 covers the in-thread pipeline (the rest of the suite runs the worker pool).
    const recovered = await startTestCollector(dir, { ingest: { spoolDir, workers: 0 } });
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
    const first = await postSpans(remote.url, numberedSpans('b1', 100));
    expect(first.status).toBe(200);
    // Let the writer notice that storage is unreachable.
    await new Promise((r) => setTimeout(r, 300));
    const second = await postSpans(remote.url, numberedSpans('b2', 100));
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect((await fetch(`${remote.url}/readyz`)).status).toBe(503);
  }, 30_000);

  it('answers 429 with Retry-After when the queue is full and storage is fine', async () => {
    const busy = await startTestCollector(dir, {
      // Nothing is sealed for a minute: the first export fills the queue and keeps it full.
      ingest: { spoolDir: join(dir, 'spool-429'), queueMaxSpans: 100, flushIntervalMs: 60_000 },
    });
    expect((await postSpans(busy.url, numberedSpans('a1', 100))).status).toBe(200);
    const refused = await postSpans(busy.url, numberedSpans('a2', 100));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    const metrics = await (await fetch(`${busy.url}/metrics`)).text();
    expect(metrics).toMatch(/llmwatch_ingest_requests_refused_total\{reason="queue_full"\} 1/);
    // Draining frees the queue and the same export is accepted.
    await flush(busy);
    expect((await postSpans(busy.url, numberedSpans('a2', 100))).status).toBe(200);
  }, 30_000);
});

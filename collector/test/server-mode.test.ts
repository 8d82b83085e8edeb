import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spoolDirOf } from '../src/server/collector.js';
import { startClickHouseFixture, type ClickHouseFixture } from './clickhouse-fixture.js';
import {
  flush,
  numberedSpans,
  post,
  postSpans,
  protobufExport,
  rows,
  spawnCollector,
  startTestCollector,
  stopCollectors,
  tempDir,
} from './ingest-helpers.js';
import { llmSpans, postThreeTimes, replaySameToken, totals } from './totals.js';

/**
 * Server mode: the collector talks to a ClickHouse HTTP interface (chDB behind it, see
 * clickhouse-fixture.ts) through @clickhouse/client, and the fixture fails the way a server or a
 * network does. The embedded counterparts are in exactly-once.test.ts and ingest-durability.test.ts.
 */
let fixture: ClickHouseFixture;
const dir = tempDir();
beforeAll(async () => {
  fixture = await startClickHouseFixture();
});
afterAll(async () => {
  await stopCollectors();
  await fixture?.close();
});

const serverMode = (spool: string, ingest: Record<string, unknown> = {}) =>
  startTestCollector(
    dir,
    { storage: { url: fixture.url }, ingest: { spoolDir: `${dir}/${spool}`, workers: 0, ...ingest } },
    { drainTimeoutMs: 1_000 },
  );

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const GZIP_KEY = 'server-mode-gzip-key';

const metric = async (url: string, name: string): Promise<string | undefined> =>
  new RegExp(`^${name} (\\S+)$`, 'm').exec(await (await fetch(`${url}/metrics`)).text())?.[1];

describe('server mode against the ClickHouse HTTP interface', () => {
  it('totals inflated after a replay (server): the same insert token twice counts once in the rollup', async () => {
    const collector = await serverMode('spool-replay');
    await waitFor(async () => (await fetch(`${collector.url}/readyz`)).status === 200);
    await replaySameToken(collector, 'replayed');
    const { raw, rollup } = await totals(collector, 'replayed');
    expect(raw).toEqual({ calls: 1, inputTokens: 7, outputTokens: 3, costUsd: 0.5 });
    expect(rollup).toEqual(raw);
  });

  it('inserts send their rows as bytes, gzip at storage.insertGzipLevel or uncompressed at 0; non-ASCII content is stored byte for byte', async () => {
    const content = JSON.stringify([
      {
        role: 'user',
        parts: [{ type: 'text', content: 'Grüße — 日本語の質問 🙂 "quoted", a comma\nand a newline' }],
      },
    ]);
    for (const [level, prefix] of [
      [1, 'e1'],
      [0, 'e2'],
    ] as const) {
      const collector = await startTestCollector(
        dir,
        {
          // Its own project: the totals of the other tests count the default one.
          projects: [{ id: 'gzip', keys: [GZIP_KEY] }],
          storage: { url: fixture.url, insertGzipLevel: level },
          ingest: { spoolDir: `${dir}/spool-gzip-${level}`, workers: 0 },
        },
        { drainTimeoutMs: 1_000 },
      );
      const spans = llmSpans(prefix, 5).map((span) => ({
        ...span,
        attributes: [
          ...(span.attributes ?? []),
          { key: 'gen_ai.input.messages', value: { stringValue: content } },
        ],
      }));
      const from = fixture.statements.length;
      const posted = await post(collector.url, protobufExport(spans), {
        'content-type': 'application/x-protobuf',
        authorization: `Bearer ${GZIP_KEY}`,
      });
      expect(posted.status).toBe(200);
      await flush(collector);
      const inserts = fixture.statements
        .map((sql, i) => ({ sql, body: fixture.bodies[i] }))
        .slice(from)
        .filter((r) => r.sql.startsWith('INSERT INTO llm_calls'));
      expect(inserts.length).toBeGreaterThan(0);
      for (const insert of inserts) expect(insert.body?.contentEncoding).toBe(level > 0 ? 'gzip' : '');
      const stored = await rows<{ InputContent: string }>(
        collector,
        "SELECT InputContent FROM llm_calls WHERE ProjectId = 'gzip' AND startsWith(TraceId, {p:String})",
        { p: prefix },
      );
      expect(stored.map((r) => r.InputContent)).toEqual(Array<string>(5).fill(content));
    }
  });

  it('retried exports double-count (server): three posts of the same spans are stored once', async () => {
    const collector = await serverMode('spool-retry');
    await postThreeTimes(collector.url, llmSpans('d1', 20));
    await flush(collector);
    const { raw, rollup, traces } = await totals(collector, 'default');
    expect({ calls: raw.calls, traces }).toEqual({ calls: 20, traces: 20 });
    expect(rollup).toEqual(raw);
  });

  it('commit-then-crash before the answer: the retried insert stores nothing twice', async () => {
    const collector = await serverMode('spool-commit');
    const before = await totals(collector, 'default');
    // Every llm_calls insert lands, and its answer is lost: the writer must retry and not count twice.
    await fixture.setFault('drop-after-commit', /^INSERT INTO llm_calls\b/);
    expect((await postSpans(collector.url, llmSpans('c2', 30))).status).toBe(200);
    await waitFor(
      async () => fixture.statements.filter((s) => s.startsWith('INSERT INTO llm_calls')).length > 0,
    );
    await fixture.setFault('none');
    await flush(collector);
    const after = await totals(collector, 'default');
    expect(after.raw.calls - before.raw.calls).toBe(30);
    expect(after.traces - before.traces).toBe(30);
    expect(after.rollup).toEqual(after.raw);
  });

  it('outage while ingesting: exports are acknowledged into the spool and inserted once storage is back', async () => {
    const collector = await serverMode('spool-outage');
    await waitFor(async () => (await fetch(`${collector.url}/readyz`)).status === 200);
    await fixture.setFault('refuse');
    const spans = numberedSpans('0a', 50);
    expect((await postSpans(collector.url, spans)).status).toBe(200);
    await waitFor(async () => (await fetch(`${collector.url}/readyz`)).status === 503);
    expect(await metric(collector.url, 'llmwatch_storage_up')).toBe('0');
    await fixture.setFault('none');
    await flush(collector);
    const stored = await rows<{ n: number }>(
      collector,
      "SELECT toUInt32(count()) AS n FROM otel_traces WHERE startsWith(SpanId, '0a')",
    );
    expect(stored[0]?.n).toBe(50);
    expect(await metric(collector.url, 'llmwatch_storage_up')).toBe('1');
  });

  it('storage_up is 0 while storage is down at start-up', async () => {
    await fixture.setFault('refuse');
    try {
      const collector = await serverMode('spool-down-at-start');
      expect(await metric(collector.url, 'llmwatch_storage_up')).toBe('0');
    } finally {
      await fixture.setFault('none');
    }
  });

  it('shutdown hang: close() returns within its timeout when storage was unreachable since start-up', async () => {
    await fixture.setFault('refuse');
    try {
      const collector = await serverMode('spool-shutdown', { flushIntervalMs: 20 });
      expect((await postSpans(collector.url, numberedSpans('0b', 10))).status).toBe(200);
      await collector.deps.ingest.spool.sealNow();
      const started = Date.now();
      await collector.close();
      expect(Date.now() - started).toBeLessThan(3_000);
      // What was acknowledged stays in the spool for the next start.
      expect(readdirSync(spoolDirOf(collector.deps.config)).filter((f) => f.endsWith('.seg'))).toHaveLength(
        1,
      );
    } finally {
      await fixture.setFault('none');
    }
  });

  it('shutdown hang: close() returns within its timeout when storage hangs mid-insert', async () => {
    const collector = await serverMode('spool-hang');
    await waitFor(async () => (await fetch(`${collector.url}/readyz`)).status === 200);
    await fixture.setFault('hang', /^INSERT/);
    try {
      expect((await postSpans(collector.url, numberedSpans('0c', 10))).status).toBe(200);
      await collector.deps.ingest.spool.sealNow();
      const started = Date.now();
      await collector.close();
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await fixture.setFault('none');
    }
  });

  it('kill -9 while storage is down, restarted as the same pid (PID 1 in a container): the spool replays everything', async () => {
    await fixture.setFault('refuse');
    const spoolDir = join(dir, 'spool-kill');
    const { proc, url } = await spawnCollector(
      dir,
      `storage:\n  url: ${fixture.url}\ningest:\n  spoolDir: ${spoolDir}\n  flushIntervalMs: 50\nlogging:\n  level: error\n`,
    );
    const batches = [numberedSpans('0d', 40), numberedSpans('0e', 40)];
    for (const batch of batches) expect((await postSpans(url, batch)).status).toBe(200);
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    // The restarted container's collector gets the dead one's pid: the lock names "us".
    const lock = readFileSync(join(spoolDir, 'LOCK'), 'utf8').split('\n');
    writeFileSync(join(spoolDir, 'LOCK'), [String(process.pid), ...lock.slice(1)].join('\n'));
    await fixture.setFault('none');

    const restarted = await serverMode('spool-kill');
    await flush(restarted);
    const stored = await rows<{ n: number; spans: number }>(
      restarted,
      "SELECT toUInt32(count()) AS n, toUInt32(uniqExact(SpanId)) AS spans FROM otel_traces WHERE startsWith(SpanId, '0d') OR startsWith(SpanId, '0e')",
    );
    expect(stored[0]).toEqual({ n: 80, spans: 80 });
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([]);
  }, 60_000);
});

import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spoolDirOf } from '../src/server/collector.js';
import { flush, startTestCollector, stopCollectors, tempDir } from './ingest-helpers.js';
import { llmSpans, postThreeTimes, replaySameToken, totals } from './totals.js';

/** Embedded mode; server mode runs the same checks in server-mode.test.ts. */
const dir = tempDir();
afterAll(stopCollectors);

describe('exactly-once totals (embedded)', () => {
  it('totals inflated after a replay: the same insert token twice counts once in llm_calls and in llm_calls_1m', async () => {
    const collector = await startTestCollector(dir);
    await replaySameToken(collector, 'replayed');
    const { raw, rollup } = await totals(collector, 'replayed');
    await stopCollectors();
    expect(raw).toEqual({ calls: 1, inputTokens: 7, outputTokens: 3, costUsd: 0.5 });
    expect(rollup).toEqual(raw);
  });

  it('retried exports double-count: a span posted three times is stored once, in every table and the rollup', async () => {
    const running = await startTestCollector(dir);
    await postThreeTimes(running.url, llmSpans('d1', 20));
    await flush(running);
    const { raw, rollup, traces } = await totals(running, 'default');
    expect(raw.calls).toBe(20);
    expect(traces).toBe(20);
    expect(rollup).toEqual(raw);
    expect(raw.costUsd).toBeGreaterThan(0);
  });

  it('commit-then-crash: a segment replayed after its insert landed leaves the rollup equal to the raw tables', async () => {
    await stopCollectors();
    // Nothing is sealed by age: the test seals the segment itself and copies it before the
    // writer inserts and deletes it, which is the state a crash after the insert leaves behind.
    const first = await startTestCollector(dir, { ingest: { flushIntervalMs: 60_000 } });
    const spoolDir = spoolDirOf(first.deps.config);
    await postThreeTimes(first.url, llmSpans('c1', 30));
    await first.deps.ingest.spool.sealNow();
    const segments = readdirSync(spoolDir).filter((f) => f.endsWith('.seg'));
    expect(segments).toHaveLength(1);
    copyFileSync(join(spoolDir, segments[0]!), join(dir, 'kept.seg'));
    await flush(first);
    await stopCollectors();
    copyFileSync(join(dir, 'kept.seg'), join(spoolDir, segments[0]!));

    // The restart replays the segment (before taking traffic, in embedded mode).
    const restarted = await startTestCollector(dir);
    expect(readdirSync(spoolDir).filter((f) => f.endsWith('.seg'))).toEqual([]);
    const { raw, rollup, traces } = await totals(restarted, 'default');
    expect(raw.calls).toBe(50);
    expect(traces).toBe(50);
    expect(rollup).toEqual(raw);
  });
});

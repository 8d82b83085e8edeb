import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logging.js';
import { emptyRows } from './rows.js';
import { Spool, decodeSegment, encodeRecord, type SpoolSegment } from './spool.js';

function rowsOf(traces: string[], calls: string[] = []): ReturnType<typeof emptyRows> {
  return { ...emptyRows(), otel_traces: traces, llm_calls: calls };
}

describe('spool records', () => {
  it('round-trips rows per table', () => {
    const buf = Buffer.concat([
      encodeRecord(rowsOf(['{"a":1}', '{"a":2}'], ['{"c":1}'])),
      encodeRecord(rowsOf(['{"a":3}'])),
    ]);
    const data = decodeSegment(buf);
    expect(data.records).toBe(2);
    expect(data.spans).toBe(3);
    expect(data.tables.otel_traces.body.toString()).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(data.tables.llm_calls).toMatchObject({ rows: 1 });
    expect(data.tables.pii_findings.rows).toBe(0);
    expect(data.tornBytes).toBe(0);
  });

  it('ignores a torn tail: a record cut short or with a bad checksum is never replayed', () => {
    const good = encodeRecord(rowsOf(['{"a":1}']));
    const next = encodeRecord(rowsOf(['{"a":2}']));
    const cut = decodeSegment(Buffer.concat([good, next.subarray(0, next.length - 3)]));
    expect(cut).toMatchObject({ records: 1, spans: 1, tornBytes: next.length - 3 });
    const flipped = Buffer.from(next);
    flipped[flipped.length - 2] = 0x41;
    expect(decodeSegment(Buffer.concat([good, flipped])).records).toBe(1);
  });
});

describe('Spool', () => {
  it('group-commits appends, seals by size and replays what a crashed run left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmwatch-spool-'));
    const sealed: SpoolSegment[] = [];
    const spool = new Spool({
      dir,
      maxSegmentSpans: 3,
      maxSegmentAgeMs: 60_000,
      onSealed: (s) => sealed.push(s),
      logger: silentLogger,
    });
    expect(await spool.start()).toEqual([]);
    await Promise.all([
      spool.append(rowsOf(['{"n":1}', '{"n":2}'])),
      spool.append(rowsOf(['{"n":3}'])),
      spool.append(rowsOf(['{"n":4}'])),
    ]);
    await spool.sealNow();
    expect(sealed.map((s) => s.spans).reduce((a, b) => a + b, 0)).toBe(4);
    expect(sealed.every((s) => s.memory !== undefined)).toBe(true);
    // A crash: the process is gone, its lock and segments stay. Simulate a dead owner.
    writeFileSync(join(dir, 'LOCK'), '999999999\n');
    const again = new Spool({
      dir,
      maxSegmentSpans: 3,
      maxSegmentAgeMs: 60_000,
      onSealed: () => undefined,
      logger: silentLogger,
    });
    const leftovers = await again.start();
    expect(leftovers.map((s) => s.id)).toEqual(sealed.map((s) => s.id));
    expect(leftovers.map((s) => s.memory)).toEqual(sealed.map(() => undefined));
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').trim()).toBe(String(process.pid));
    for (const s of leftovers) await again.remove(s);
    await again.close();
    await again.unlock();
    expect(readdirSync(dir).sort()).toEqual(['failed']);
  });
});

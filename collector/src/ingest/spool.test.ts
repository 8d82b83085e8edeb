import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../logging.js';
import { emptyRows } from './rows.js';
import { Spool, decodeSegment, encodeRecord, lockHeld, parseLock, type SpoolSegment } from './spool.js';

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
    expect(readFileSync(join(dir, 'LOCK'), 'utf8').split('\n')[0]).toBe(String(process.pid));
    for (const s of leftovers) await again.remove(s);
    await again.close();
    await again.unlock();
    expect(readdirSync(dir).sort()).toEqual(['failed']);
  });
});

describe('Spool sealing under load', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A spool whose age check runs on fake time; resolves `nextSeal` at each sealed segment. */
  async function spoolWithClock(opts: { writerBusy: () => boolean; maxSegmentBytes?: number }) {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const sealed: SpoolSegment[] = [];
    let onSeal: (() => void) | undefined;
    const spool = new Spool({
      dir: mkdtempSync(join(tmpdir(), 'llmwatch-spool-')),
      maxSegmentSpans: 1_000,
      maxSegmentAgeMs: 1_000,
      onSealed: (s) => {
        sealed.push(s);
        onSeal?.();
      },
      logger: silentLogger,
      ...opts,
    });
    await spool.start();
    const nextSeal = () => new Promise<void>((resolve) => (onSeal = resolve));
    return { spool, sealed, nextSeal };
  }

  it('keeps an aged segment open while the writer is busy, and seals it once the writer is free', async () => {
    let busy = true;
    const { spool, sealed, nextSeal } = await spoolWithClock({ writerBusy: () => busy });
    await spool.append(rowsOf(['{"n":1}']));
    vi.advanceTimersByTime(5_000);
    await spool.append(rowsOf(['{"n":2}']));
    expect(sealed).toEqual([]);
    busy = false;
    const sealing = nextSeal();
    vi.advanceTimersByTime(250);
    await sealing;
    expect(sealed.map((s) => s.spans)).toEqual([2]);
    await spool.close();
  });

  it('seals an aged segment when the writer runs out of work (sealIfAged), busy or not', async () => {
    const { spool, sealed, nextSeal } = await spoolWithClock({ writerBusy: () => true });
    await spool.append(rowsOf(['{"n":1}']));
    spool.sealIfAged();
    vi.advanceTimersByTime(999);
    spool.sealIfAged();
    await spool.append(rowsOf(['{"n":2}']));
    expect(sealed).toEqual([]);
    vi.advanceTimersByTime(1);
    const sealing = nextSeal();
    spool.sealIfAged();
    await sealing;
    expect(sealed.map((s) => s.spans)).toEqual([2]);
    await spool.close();
  });

  it('seals a segment past maxSegmentBytes of rows whatever its spans', async () => {
    const { spool, sealed } = await spoolWithClock({ writerBusy: () => true, maxSegmentBytes: 100 });
    await spool.append(rowsOf(['x'.repeat(60)]));
    expect(sealed).toEqual([]);
    await spool.append(rowsOf(['y'.repeat(60)]));
    await spool.append(rowsOf(['z']));
    expect(sealed.map((s) => s.spans)).toEqual([2]);
    await spool.close();
    expect(sealed.map((s) => s.spans)).toEqual([2, 1]);
  });
});

describe('spool lock', () => {
  const spoolAt = (dir: string): Spool =>
    new Spool({
      dir,
      maxSegmentSpans: 10,
      maxSegmentAgeMs: 60_000,
      onSealed: () => undefined,
      logger: silentLogger,
    });

  it('crash loop in containers: a lock naming our own pid from an earlier start (PID 1 after kill -9) is taken over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmwatch-spool-'));
    const first = spoolAt(dir);
    await first.start();
    await first.append(rowsOf(['{"n":1}']));
    await first.sealNow();
    // kill -9: the lock stays. The next start of the container has the same pid, not the same process.
    const lock = readFileSync(join(dir, 'LOCK'), 'utf8').split('\n');
    writeFileSync(join(dir, 'LOCK'), `${process.pid}\nearlier-start-of-this-pid\n${lock[2]}\n`);
    const restarted = spoolAt(dir);
    expect((await restarted.start()).map((s) => s.spans)).toEqual([1]);
    // A lock from before the lock named its owner's start: our pid alone is stale too.
    await restarted.unlock();
    writeFileSync(join(dir, 'LOCK'), `${process.pid}\n`);
    expect(await spoolAt(dir).start()).toHaveLength(1);
  });

  it('refuses a spool held by another Spool of this process or by a live process', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmwatch-spool-'));
    await spoolAt(dir).start();
    await expect(spoolAt(dir).start()).rejects.toThrow(`is in use by process ${process.pid}`);
    const parent = { pid: process.ppid };
    expect(lockHeld(parent)).toBe(true);
    // The same pid with another start time is another process: the owner is gone.
    expect(lockHeld({ ...parent, startTime: '1' })).toBe(false);
    expect(lockHeld({ pid: 999_999_999 })).toBe(false);
    expect(parseLock('12\nabc\n345\n')).toEqual({ pid: 12, token: 'abc', startTime: '345' });
    expect(parseLock('garbage')).toBeUndefined();
  });
});

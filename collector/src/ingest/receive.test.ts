import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { InFlightBytes } from './limits.js';
import { readBody } from './receive.js';

/** A request body stream with headers, as readBody sees it. */
function body(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers });
}

describe('readBody', () => {
  it('ingest lock-out: a stalled upload fails with 408 at the body deadline', async () => {
    const stalled = body();
    stalled.write(Buffer.from('partial'));
    const started = Date.now();
    await expect(readBody(stalled as unknown as Request, 1024, 1024, 100)).rejects.toMatchObject({
      status: 408,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('memory bounded by configuration: bytes beyond the in-flight budget fail with 429, and come back when released', async () => {
    const budget = new InFlightBytes(1024 * 1024);
    const first = budget.hold();
    const big = body();
    const reading = readBody(big as unknown as Request, 4 << 20, 4 << 20, 1_000, first);
    big.end(Buffer.alloc(900 * 1024));
    await reading;
    expect(budget.inUse).toBe(900 * 1024);

    const second = body();
    second.end(Buffer.alloc(200 * 1024));
    await expect(
      readBody(second as unknown as Request, 4 << 20, 4 << 20, 1_000, budget.hold()),
    ).rejects.toMatchObject({ status: 429 });

    first.release();
    first.release();
    expect(budget.inUse).toBe(0);
    // One request alone may use it all (up to maxDecompressedBytes).
    const alone = body();
    alone.end(Buffer.alloc(2 << 20));
    expect((await readBody(alone as unknown as Request, 4 << 20, 4 << 20, 1_000, budget.hold())).length).toBe(
      2 << 20,
    );
  });
});

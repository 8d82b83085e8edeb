import { afterAll, describe, expect, it } from 'vitest';
import { numberedSpans, protobufExport } from '../../test/ingest-helpers.js';
import { parseConfig } from '../config/index.js';
import { silentLogger } from '../logging.js';
import { workerPool } from './process-pool.js';

const pool = workerPool(1, parseConfig({}), 'process-pool-test', silentLogger);
afterAll(() => pool.close());

describe('workerPool', () => {
  it('moves a body that owns its memory to the worker, and copies one that shares it', async () => {
    const wire = protobufExport(numberedSpans('a1', 3));

    const owned = Buffer.alloc(wire.length);
    wire.copy(owned);
    expect((await pool.run('traces', 'protobuf', owned, 'p')).spans).toBe(3);
    // Moved, not copied: the main thread holds none of it any more.
    expect(owned.byteLength).toBe(0);

    // A view into a larger buffer (a pooled or read buffer holds other bytes too) stays readable.
    const shared = Buffer.alloc(wire.length + 16);
    wire.copy(shared, 8);
    const view = shared.subarray(8, 8 + wire.length);
    expect((await pool.run('traces', 'protobuf', view, 'p')).spans).toBe(3);
    expect(view.equals(wire)).toBe(true);
  });
});

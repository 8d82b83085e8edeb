import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRows, openClickHouse, queryRows } from './clickhouse.js';
import { dataDirLayout } from './data-dir.js';

describe('embedded RowBinary inserts', () => {
  let dir: string;
  let client: ClickHouseClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-rowbinary-'));
    // What a killed collector left: the body of an insert it never finished.
    mkdirSync(dataDirLayout(dir).insert, { recursive: true });
    writeFileSync(join(dataDirLayout(dir).insert, '1-0.rowbinary'), 'leftover');
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'ingest');
    await client.command({ query: 'CREATE TABLE t (a String, b UInt32) ENGINE = MergeTree ORDER BY a' });
  });

  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (a: string, b: number) => {
    const bytes = Buffer.from(a, 'utf8');
    const out = Buffer.alloc(1 + bytes.length + 4);
    out[0] = bytes.length;
    bytes.copy(out, 1);
    out.writeUInt32LE(b, 1 + bytes.length);
    return out;
  };

  it('go through a file the engine reads, removed afterwards, also when the insert fails', async () => {
    expect(existsSync(dataDirLayout(dir).insert)).toBe(false);
    const body = Buffer.concat([row('x', 1), row('é\n\'\0"', 4_000_000_000)]);
    await insertRows(
      client,
      't',
      body,
      { format: 'RowBinary', columns: ['a', 'b'] },
      { insert_deduplication_token: 'k' },
    );
    expect(await queryRows(client, 'SELECT a, b FROM t ORDER BY b')).toEqual([
      { a: 'x', b: 1 },
      { a: 'é\n\'\0"', b: 4_000_000_000 },
    ]);
    // A body cut short: the engine refuses it.
    await expect(
      insertRows(client, 't', body.subarray(0, body.length - 2), {
        format: 'RowBinary',
        columns: ['a', 'b'],
      }),
    ).rejects.toThrow();
    expect(readdirSync(dataDirLayout(dir).insert)).toEqual([]);
  });
});

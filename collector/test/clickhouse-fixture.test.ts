import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClickHouseFixture, type ClickHouseFixture } from './clickhouse-fixture.js';

let fixture: ClickHouseFixture;
let client: ClickHouseClient;

beforeAll(async () => {
  fixture = await startClickHouseFixture();
  // The collector's server-mode client options: gzip both ways.
  client = createClient({
    url: fixture.url,
    compression: { request: true, response: true },
    request_timeout: 1_000,
    log: { level: ClickHouseLogLevel.OFF },
  });
});
afterAll(async () => {
  await client?.close();
  await fixture?.close();
});

describe('ClickHouse HTTP interface over chDB', () => {
  it('answers ping, DDL, inserts, bound parameters and settings like the server', async () => {
    expect((await client.ping()).success).toBe(true);
    await client.command({ query: 'CREATE TABLE t (k UInt32, s String) ENGINE = MergeTree ORDER BY k' });
    await client.insert({
      table: 't',
      values: [
        { k: 1, s: "it's" },
        { k: 2, s: 'b' },
      ],
      format: 'JSONEachRow',
    });
    // Inline rows after FORMAT, as the collector's server-mode insert sends them.
    await client.command({ query: 'INSERT INTO t FORMAT JSONEachRow\n{"k":3,"s":"c"}\n' });
    const result = await client.query({
      query: 'SELECT k, s FROM t WHERE s IN {names:Array(String)} ORDER BY k',
      query_params: { names: ["it's", 'c'] },
      format: 'JSONEachRow',
    });
    expect(await result.json()).toEqual([
      { k: 1, s: "it's" },
      { k: 3, s: 'c' },
    ]);
    const setting = await client.query({
      query: "SELECT getSetting('max_threads') AS v",
      clickhouse_settings: { max_threads: 3 },
      format: 'JSONEachRow',
    });
    expect(await setting.json()).toEqual([{ v: 3 }]);
    // Settings do not leak into the next request.
    const after = await client.query({
      query: "SELECT getSetting('max_threads') != 3 AS v",
      format: 'JSONEachRow',
    });
    expect(await after.json()).toEqual([{ v: 1 }]);
  });

  it('turns engine errors into ClickHouseError with code and type', async () => {
    await expect(client.query({ query: 'SELECT * FROM missing_table' })).rejects.toMatchObject({
      code: '60',
      type: 'UNKNOWN_TABLE',
    });
  });

  it('simulates outages: refused, 503, hang, and an insert committed whose answer is lost', async () => {
    await fixture.setFault('refuse');
    // A kept-alive socket is reset, a new one refused.
    await expect(client.command({ query: 'SELECT 1' })).rejects.toMatchObject({
      code: expect.stringMatching(/^ECONN(REFUSED|RESET)$/),
    });
    await expect(client.command({ query: 'SELECT 1' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await fixture.setFault('unavailable');
    await expect(client.command({ query: 'SELECT 1' })).rejects.toThrow();
    expect((await client.ping()).success).toBe(false);
    await fixture.setFault('hang');
    await expect(client.command({ query: 'SELECT 1' })).rejects.toThrow(/Timeout/i);

    await fixture.setFault('drop-after-commit', /^INSERT/);
    await expect(
      client.command({ query: 'INSERT INTO t FORMAT JSONEachRow\n{"k":9,"s":"x"}\n' }),
    ).rejects.toThrow();
    await fixture.setFault('none');
    expect(await fixture.query('SELECT count() FROM t WHERE k = 9')).toBe('1\n');
  });
});

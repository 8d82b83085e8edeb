import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, type EmbeddedClickHouse } from '../../test/embedded.js';
import { silentLogger } from '../logging.js';
import { queryRows } from '../storage/clickhouse.js';
import { EventJoiner } from './event-join.js';

const CALLS = 200_000;
let ch: EmbeddedClickHouse;

async function selectedRows(): Promise<number> {
  const [row] = await queryRows<{ value: string }>(
    ch.client,
    "SELECT value FROM system.events WHERE event = 'SelectedRows'",
  );
  return Number(row?.value ?? 0);
}

beforeAll(async () => {
  ch = await embeddedClickHouse('event-join');
  // A busy day of calls whose spans carried their own content, and one whose content came as events.
  await ch.client.command({
    query: `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, InputContent, Status)
      SELECT 'p', now64(9) - toIntervalSecond(number % 80000), lower(hex(randomString(16))), lower(hex(randomString(8))),
        '[{"role":"user","parts":[{"type":"text","content":"hello there"}]}]', 'ok'
      FROM numbers(${CALLS})`,
  });
  await ch.client.insert({
    table: 'llm_calls',
    format: 'JSONEachRow',
    values: [
      {
        ProjectId: 'p',
        Timestamp: String(Date.now() / 1000),
        TraceId: 'ab'.repeat(16),
        SpanId: 'cd'.repeat(8),
        Status: 'ok',
      },
    ],
  });
  await ch.client.insert({
    table: 'genai_events',
    format: 'JSONEachRow',
    values: [
      {
        ProjectId: 'p',
        Timestamp: String(Date.now() / 1000),
        TraceId: 'ab'.repeat(16),
        SpanId: 'cd'.repeat(8),
        EventName: 'gen_ai.user.message',
        Attributes: JSON.stringify({ content: 'What is the capital of France?' }),
      },
    ],
  });
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

describe('EventJoiner', () => {
  it('a pass reads the calls that have events, not every call of two days (regression: it read all their content every 2 s)', async () => {
    const joiner = new EventJoiner({ client: ch.client, logger: silentLogger, intervalMs: 1_000 });
    const before = await selectedRows();
    expect(await joiner.joinOnce()).toBe(1);
    const read = (await selectedRows()) - before;
    expect(read).toBeLessThan(CALLS / 4);
    const [call] = await queryRows<{ InputContent: string }>(
      ch.client,
      `SELECT InputContent FROM llm_calls WHERE SpanId = {s:String}`,
      { s: 'cd'.repeat(8) },
    );
    expect(call?.InputContent).toContain('capital of France');
    await joiner.stop();
  });
});

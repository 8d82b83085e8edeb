import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedClickHouse, selectedRows, type EmbeddedClickHouse } from '../../test/embedded.js';
import { silentLogger } from '../logging.js';
import { queryRows } from '../storage/clickhouse.js';
import { EventJoiner } from './event-join.js';

const CALLS = 200_000;
const EVENTS_TRACE = 'ab'.repeat(16);
const EVENTS_SPAN = 'cd'.repeat(8);
let ch: EmbeddedClickHouse;

beforeAll(async () => {
  ch = await embeddedClickHouse('event-join');
  // A busy day of calls whose spans carried their own content, and one whose content came as events.
  await ch.client.command({
    query: `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, InputContent, Status)
      SELECT 'p', now64(9) - toIntervalSecond(number % 80000), lower(hex(randomString(16))), lower(hex(randomString(8))),
        '[{"role":"user","parts":[{"type":"text","content":"hello there"}]}]', 'ok'
      FROM numbers(${CALLS})`,
  });
  const span = {
    ProjectId: 'p',
    Timestamp: String(Date.now() / 1000),
    TraceId: EVENTS_TRACE,
    SpanId: EVENTS_SPAN,
  };
  await ch.client.insert({ table: 'llm_calls', format: 'JSONEachRow', values: [{ ...span, Status: 'ok' }] });
  const message = { content: 'What is the capital of France?' };
  await ch.client.insert({
    table: 'genai_events',
    format: 'JSONEachRow',
    values: [{ ...span, EventName: 'gen_ai.user.message', Attributes: JSON.stringify(message) }],
  });
}, 120_000);

afterAll(async () => {
  await ch?.close();
});

describe('EventJoiner', () => {
  it('a pass reads the calls that have events, not every call of two days (regression: it read all their content every 2 s)', async () => {
    const joiner = new EventJoiner({ client: ch.client, logger: silentLogger, intervalMs: 1_000 });
    const before = await selectedRows(ch.client);
    expect(await joiner.joinOnce()).toBe(1);
    const read = (await selectedRows(ch.client)) - before;
    expect(read).toBeLessThan(CALLS / 4);
    const [call] = await queryRows<{ InputContent: string }>(
      ch.client,
      `SELECT InputContent FROM llm_calls WHERE SpanId = {s:String}`,
      { s: EVENTS_SPAN },
    );
    expect(call?.InputContent).toContain('capital of France');
    await joiner.stop();
  });
});

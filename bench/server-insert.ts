import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startClickHouseFixture } from '../collector/test/clickhouse-fixture.js';
import { TABLES } from '../collector/src/ingest/rows.js';
import { recordBlocks } from '../collector/src/ingest/spool.js';
import { rowFormat, insertTableRows } from '../collector/src/ingest/writer.js';
import { insertStatement, openClickHouse } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import { seededRandom } from '../packages/core/src/index.js';
import { BATCH_SPANS, INSERT_SPANS, makeBatch, pipelineRows } from './ingest.js';
import type { BenchResult } from './types.js';

/**
 * What a server-mode insert costs the collector: CPU µs per LLM span of this process only, the
 * client side, for segments of `ingest.batchMaxRows` spans (both tables, as the writer inserts
 * them), by how the body is sent. The ClickHouse HTTP interface runs in a child process (chDB
 * behind it: collector/test/clickhouse-fixture.ts), so its parsing is not counted here.
 */
const FIXTURE_FLAG = 'LLMWATCH_BENCH_CLICKHOUSE_FIXTURE';

if (process.env[FIXTURE_FLAG] === '1') {
  // The child: serve until the parent closes stdin.
  const fixture = await startClickHouseFixture();
  process.stdout.write(`${fixture.url}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => void fixture.close().then(() => process.exit(0)));
}

async function startFixtureChild(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, [FIXTURE_FLAG]: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once('exit', (code) => reject(new Error(`ClickHouse fixture exited with code ${code}`)));
    lines.once('line', resolveUrl);
  });
  return { url, child };
}

interface Variant {
  name: string;
  gzipLevel: number;
  /** How server inserts were sent before: the rows decoded into the statement text. */
  inline?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'rows streamed as bytes, gzip level 1 (the default)', gzipLevel: 1 },
  { name: 'rows streamed as bytes, uncompressed (`insertGzipLevel: 0`)', gzipLevel: 0 },
  { name: "rows streamed as bytes, gzip level 6 (zlib's default)", gzipLevel: 6 },
  { name: 'before: rows inline in the statement as a string, gzip level 6', gzipLevel: 6, inline: true },
];

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const rounds = options.quick ? 2 : 4;
  const random = seededRandom(11);
  // One segment's rows per table, joined as the writer joins them.
  const rows = pipelineRows(
    Array.from({ length: Math.ceil(INSERT_SPANS / BATCH_SPANS) }, (_, i) => makeBatch(i, random)),
  );
  const spans = rows.otel_traces.length;
  const blocks = recordBlocks(rows);
  const bodies = TABLES.filter((table) => blocks[table].rows > 0).map((table) => ({
    table,
    body: blocks[table].buf,
  }));
  const rawBytes = bodies.reduce((n, b) => n + b.body.length, 0);

  const { url, child } = await startFixtureChild();
  const results: { name: string; cpuMicrosPerSpan: number; wireBytesPerSpan: number }[] = [];
  try {
    const admin = await openClickHouse({ mode: 'server', url }, 'admin');
    await migrate(admin);
    await admin.close();
    for (const variant of VARIANTS) {
      const client = await openClickHouse(
        { mode: 'server', url, insertGzipLevel: variant.gzipLevel },
        'ingest',
      );
      try {
        const insert = async (round: number) => {
          for (const { table, body } of bodies) {
            const settings = { insert_deduplication_token: `${variant.name}:${round}:${table}` };
            if (!variant.inline) await insertTableRows(client, table, body, settings);
            else {
              const statement = insertStatement(table, rowFormat(table, body), settings);
              await client.command({ query: `${statement}\n${body.toString('utf8')}` });
            }
          }
        };
        await insert(-1); // warm-up: connection, JIT
        const perSpan: number[] = [];
        for (let round = 0; round < rounds; round++) {
          const before = process.cpuUsage();
          await insert(round);
          const used = process.cpuUsage(before);
          perSpan.push((used.user + used.system) / spans);
        }
        perSpan.sort((a, b) => a - b);
        const wire =
          variant.gzipLevel > 0
            ? bodies.reduce((n, b) => n + gzipSync(b.body, { level: variant.gzipLevel }).length, 0)
            : rawBytes;
        results.push({
          name: variant.name,
          cpuMicrosPerSpan: perSpan[Math.floor(perSpan.length / 2)] ?? 0,
          wireBytesPerSpan: wire / spans,
        });
      } finally {
        await client.close();
      }
    }
  } finally {
    child.stdin?.end();
    await new Promise((resolveExit) => child.once('exit', resolveExit));
  }

  const lines = [
    '## Server-mode insert (collector CPU per span, client side)',
    '',
    `One segment of ${spans.toLocaleString('en-US')} LLM spans (${bodies.map((b) => b.table).join(' + ')}, ${(rawBytes / spans).toFixed(0)} bytes of rows per span) inserted into a ClickHouse HTTP interface in a child process, ${rounds} rounds, median. CPU of this process only (the client, gzip included).`,
    '',
    '| how the body is sent | CPU µs/span | bytes on the wire per span |',
    '|---|---:|---:|',
    ...results.map(
      (r) => `| ${r.name} | ${r.cpuMicrosPerSpan.toFixed(1)} | ${r.wireBytesPerSpan.toFixed(0)} |`,
    ),
  ];
  return { name: 'server-insert', markdown: lines.join('\n'), data: { spans, rawBytes, rounds, results } };
}

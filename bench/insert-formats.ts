import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripHeads } from '../collector/src/ingest/rowbinary.js';
import { BINARY_COLUMNS, TABLES, type TableName } from '../collector/src/ingest/rows.js';
import { rowsBuffer } from '../collector/src/ingest/spool.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import { seededRandom } from '../packages/core/src/index.js';
import { BATCH_SPANS, INSERT_SPANS, makeBatch, pipelineRows, widePartsFrom } from './ingest.js';
import type { BenchResult } from './types.js';

/**
 * The raw insert ceiling of the collector's own rows in every format the connection could carry,
 * and what those rows cost on disk (issue 21: measure before changing the insert path).
 *
 * Rows: `pnpm bench ingest`'s OTLP batches (LLM spans, ~1 KB prompt) through the collector's
 * pipeline, exactly as the writer receives them (RowBinary for otel_traces and llm_calls,
 * JSONEachRow for the others; ingest/rows.ts). Every format holds the SAME rows: ClickHouse itself
 * re-serializes each insert's batch (through a Memory table, which keeps row order), so no
 * hand-written serializer can flatter a format. Each format then inserts
 * the same batches into the collector's schema (materialized views included) with the writer's
 * settings, on an emptied database, in a rotating order per round; the median of the rounds is
 * reported, wall clock and process CPU (this process = Node + the embedded engine's threads).
 * A format whose stored rows differ from JSONEachRow's (checksum over the inserted columns)
 * fails the benchmark.
 *
 * Carried by the connection: the embedded chDB connection inserts pre-serialized bytes through its
 * raw insert, whose whitelist is text formats (JSONEachRow, JSONCompactEachRow, TabSeparated, CSV);
 * its generic insert/exec turns the body into a UTF-8 string, which breaks binary data. Binary
 * bodies therefore go through `INSERT … FROM INFILE` (the engine reading the batch from a
 * page-cached file), as the writer's RowBinary inserts do (storage/clickhouse.ts insertRows); a
 * server takes any of them as the request body. Native is columnar: a whole block at once, not
 * rows the spool can append per export and the span lookup can drop one by one, so it is here for
 * reference only.
 *
 * Last, the messages of llm_calls (most of its bytes) under other codecs: what the schema's
 * ZSTD(3) costs the insert and merges in CPU against what it saves on disk.
 */
const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '..');

type Format = 'JSONEachRow' | 'JSONCompactEachRow' | 'TabSeparated' | 'CSV' | 'RowBinary' | 'Native';
const FORMATS: readonly Format[] = [
  'JSONEachRow',
  'JSONCompactEachRow',
  'TabSeparated',
  'CSV',
  'RowBinary',
  'Native',
];
/** Formats whose bodies the embedded engine reads from a file (the connection's raw insert takes text only). */
const THROUGH_FILE: readonly Format[] = ['RowBinary', 'Native'];
/** Row formats the writer could insert through both connections. */
const CARRIED: readonly Format[] = FORMATS.filter((f) => f !== 'Native');

/** The slice of chDB's connection this benchmark uses (resolved from the collector, which depends on it). */
interface ChdbConnection {
  chdb: {
    rawInsert(params: {
      table: string;
      values: Buffer;
      format: string;
      columns?: readonly string[];
      settings?: Record<string, string>;
    }): Promise<unknown>;
    queryAsync(sql: string, options?: { format?: string }): Promise<{ bytes(): Uint8Array; text(): string }>;
  };
}
type Client = Parameters<typeof migrate>[0];

interface Batch {
  table: TableName;
  spans: number;
  bodies: Partial<Record<Format, Buffer>>;
  /** Binary bodies, written to files for INSERT … FROM INFILE. */
  files: Partial<Record<Format, string>>;
}

interface FormatRun {
  format: Format;
  round: number;
  seconds: number;
  cpuSeconds: number;
  bytes: number;
}

/** The llm_calls columns holding messages, and the codecs compared for them (the first is the schema's). */
const CONTENT_COLUMNS = ['InputContent', 'OutputContent', 'SystemContent'];
const CONTENT_CODECS = ['ZSTD(3)', 'ZSTD(1)', 'LZ4'];

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  const rounds = quick ? 3 : 5;
  const spans = quick ? 10_000 : 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-formats-'));
  const collectorRequire = createRequire(join(REPO, 'collector', 'package.json'));
  const { createChdbConnection } = collectorRequire('chdb/connection') as {
    createChdbConnection(opts: { path: string }): ChdbConnection;
  };
  const { createClient } = collectorRequire('@clickhouse/client') as {
    createClient(config: { connection: ChdbConnection }): Client;
  };
  const connection = createChdbConnection({ path: join(dir, 'data') });
  const client = createClient({ connection });
  try {
    await migrate(client);

    // ---- the collector's rows, per table, as the writer gets them ----
    const random = seededRandom(42);
    const lines = pipelineRows(Array.from({ length: spans / BATCH_SPANS }, (_, i) => makeBatch(i, random)));
    const llmCalls = lines.llm_calls.length;
    const tables = TABLES.filter((t) => lines[t].length);
    const columns = Object.fromEntries(
      tables.map((t) => [t, BINARY_COLUMNS[t] ?? Object.keys(JSON.parse(lines[t][0] as string) as object)]),
    ) as Record<TableName, readonly string[]>;
    const list = (names: readonly string[]): string => names.map((c) => `\`${c}\``).join(', ');
    const quoted = (t: TableName): string => list(columns[t]);

    // ---- the same rows in every format, serialized by ClickHouse ----
    const batches: Batch[] = [];
    for (const table of tables) {
      // Typed as the table types them; an EPHEMERAL input column cannot be selected, so not `AS SELECT`.
      const types = new Map(
        (
          await (
            await client.query({
              query: `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {table:String}`,
              query_params: { table },
              format: 'JSONEachRow',
            })
          ).json<{ name: string; type: string }>()
        ).map((c) => [c.name, c.type]),
      );
      const structure = columns[table].map((c) => `\`${c}\` ${types.get(c)}`).join(', ');
      await client.command({ query: `CREATE TABLE bench_stage_${table} (${structure}) ENGINE = Memory` });
    }
    const spansTotal = lines.otel_traces.length;
    for (let from = 0; from < spansTotal; from += INSERT_SPANS) {
      const count = Math.min(INSERT_SPANS, spansTotal - from);
      for (const table of tables) {
        const ratio = lines[table].length / spansTotal;
        const slice = lines[table].slice(Math.floor(from * ratio), Math.floor((from + count) * ratio));
        if (!slice.length) continue;
        const written = rowsBuffer(slice);
        const batch: Batch = { table, spans: table === 'otel_traces' ? count : 0, bodies: {}, files: {} };
        // Staged as the writer writes them (RowBinary or JSONEachRow, ingest/rows.ts).
        const binary = BINARY_COLUMNS[table];
        if (binary) {
          const file = join(dir, `stage-${table}-${from}.RowBinary`);
          const engineRows = Buffer.allocUnsafe(written.length);
          writeFileSync(file, engineRows.subarray(0, stripHeads(written, engineRows)));
          await connection.chdb.queryAsync(
            `INSERT INTO bench_stage_${table} (${list(binary)}) FROM INFILE '${file}' FORMAT RowBinary`,
          );
        } else
          await connection.chdb.rawInsert({
            table: `bench_stage_${table}`,
            values: written,
            format: 'JSONEachRow',
          });
        for (const format of FORMATS) {
          const out = await connection.chdb.queryAsync(`SELECT ${quoted(table)} FROM bench_stage_${table}`, {
            format,
          });
          const body = Buffer.from(out.bytes());
          batch.bodies[format] = body;
          if (THROUGH_FILE.includes(format)) {
            const file = join(dir, `${table}-${from}.${format}`);
            writeFileSync(file, body);
            batch.files[format] = file;
          }
        }
        await client.command({ query: `TRUNCATE TABLE bench_stage_${table}` });
        batches.push(batch);
      }
    }
    for (const table of tables) await client.command({ query: `DROP TABLE bench_stage_${table} SYNC` });

    // Every table of the schema (materialized-view targets too), emptied before each run.
    const schemaTables = (
      await (
        await client.query({
          query: `SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND name != 'llmwatch_migrations'`,
          format: 'JSONEachRow',
        })
      ).json<{ name: string }>()
    ).map((r) => r.name);
    const empty = async (): Promise<void> => {
      for (const table of schemaTables) await client.command({ query: `TRUNCATE TABLE \`${table}\`` });
    };
    const checksum = async (): Promise<string> => {
      const parts: string[] = [];
      for (const table of tables) {
        const text = (
          await connection.chdb.queryAsync(
            `SELECT count(), sum(cityHash64(${quoted(table)})) FROM ${table}`,
            { format: 'TabSeparated' },
          )
        ).text();
        parts.push(`${table}:${text.trim()}`);
      }
      return parts.join(' ');
    };

    const insertAll = async (format: Format, tag: string): Promise<number> => {
      let bytes = 0;
      for (const [i, batch] of batches.entries()) {
        // The writer's settings (collector/src/ingest/writer.ts).
        const settings = {
          insert_deduplication_token: `${tag}-${i}`,
          deduplicate_blocks_in_dependent_materialized_views: '1',
        };
        const file = batch.files[format];
        if (file) {
          const clause = Object.entries(settings)
            .map(([k, v]) => `${k} = '${v}'`)
            .join(', ');
          await connection.chdb.queryAsync(
            `INSERT INTO ${batch.table} (${quoted(batch.table)}) FROM INFILE '${file}' SETTINGS ${clause} FORMAT ${format}`,
          );
        } else {
          await connection.chdb.rawInsert({
            table: batch.table,
            values: batch.bodies[format] as Buffer,
            format,
            columns: columns[batch.table],
            settings,
          });
        }
        bytes += batch.bodies[format]?.length ?? 0;
      }
      return bytes;
    };

    // ---- insert ceilings: rotating order, emptied database, medians ----
    const runs: FormatRun[] = [];
    const checksums: Partial<Record<Format, string>> = {};
    // Warm-up (first parts, JIT, caches); not measured.
    await insertAll('JSONEachRow', 'warmup');
    await empty();
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < FORMATS.length; k++) {
        const format = FORMATS[(k + round) % FORMATS.length] as Format;
        await empty();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const bytes = await insertAll(format, `${format}-${round}`);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        runs.push({ format, round, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, bytes });
        if (round === 0) checksums[format] = await checksum();
        process.stderr.write(
          `  round ${round + 1}/${rounds} ${format}: ${Math.round(spansTotal / seconds).toLocaleString('en-US')} spans/s\n`,
        );
      }
    }
    const reference = checksums.JSONEachRow;
    for (const format of FORMATS) {
      if (checksums[format] !== reference)
        throw new Error(`${format} stored other rows than JSONEachRow: ${checksums[format]} vs ${reference}`);
    }
    const perFormat = FORMATS.map((format) => {
      const mine = runs.filter((r) => r.format === format);
      return {
        format,
        carried: CARRIED.includes(format),
        spansPerSec: median(mine.map((r) => spansTotal / r.seconds)),
        cpuUsPerSpan: median(mine.map((r) => (r.cpuSeconds * 1e6) / spansTotal)),
        bytesPerSpan: (mine[0]?.bytes ?? 0) / spansTotal,
        rounds: mine.map((r) => Math.round(spansTotal / r.seconds)),
      };
    });
    const json = perFormat.find((f) => f.format === 'JSONEachRow');
    const bestCarried = perFormat
      .filter((f) => f.carried)
      .reduce((best, f) => (f.spansPerSec > best.spansPerSec ? f : best));

    // ---- storage per million LLM calls (current schema, merged parts) ----
    await empty();
    await insertAll('JSONEachRow', 'storage');
    // Merged parts of real tables pass migration 11's 128 MiB and become wide; this bench's few
    // hundred MB would stay one compact part, which stores (and system.columns sizes) no column
    // on its own. Measured as wide parts, like a day of real traffic.
    await widePartsFrom(client, 0);
    for (const table of schemaTables) await client.command({ query: `OPTIMIZE TABLE \`${table}\` FINAL` });
    const storage = await (
      await client.query({
        query: `SELECT table, sum(rows) AS rows, sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed
                FROM system.parts WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
                GROUP BY table ORDER BY compressed DESC`,
        query_params: { tables: schemaTables },
        format: 'JSONEachRow',
      })
    ).json<{ table: string; rows: string; compressed: string; uncompressed: string }>();
    const topColumns = await (
      await client.query({
        query: `SELECT table, name, data_compressed_bytes AS compressed, data_uncompressed_bytes AS uncompressed
                FROM system.columns WHERE database = currentDatabase() AND table IN ('otel_traces', 'llm_calls')
                ORDER BY data_compressed_bytes DESC LIMIT 8`,
        format: 'JSONEachRow',
      })
    ).json<{ table: string; name: string; compressed: string; uncompressed: string }>();
    // ---- llm_calls' messages codec: insert and merge CPU, stored size ----
    // The calls' CSV batches inserted `repeats` times per codec, with merges held back so the
    // insert is measured alone, then merged into one part; rotating order, medians.
    const callBatches = batches.filter((b) => b.table === 'llm_calls');
    const codecRounds = quick ? 2 : 3;
    const repeats = quick ? 4 : 6;
    const codecRuns: { codec: string; insertCpu: number; mergeCpu: number; contentBytes: number }[] = [];
    const insertCalls = async (tag: string): Promise<void> => {
      for (const [i, batch] of callBatches.entries())
        await connection.chdb.rawInsert({
          table: 'llm_calls',
          values: batch.bodies.CSV as Buffer,
          format: 'CSV',
          columns: columns.llm_calls,
          settings: { insert_deduplication_token: `${tag}-${i}` },
        });
    };
    // Warm-up, not measured: whichever codec went first paid for the first inserts of the session.
    await empty();
    await insertCalls('codec-warmup');
    for (let round = 0; round < codecRounds; round++) {
      for (let k = 0; k < CONTENT_CODECS.length; k++) {
        const codec = CONTENT_CODECS[(k + round) % CONTENT_CODECS.length] as string;
        await empty();
        for (const column of CONTENT_COLUMNS)
          await client.command({
            query: `ALTER TABLE llm_calls MODIFY COLUMN ${column} String CODEC(${codec})`,
          });
        await client.command({ query: 'SYSTEM STOP MERGES llm_calls' });
        const insert0 = process.cpuUsage();
        for (let r = 0; r < repeats; r++) await insertCalls(`codec-${round}-${codec}-${r}`);
        const insert = process.cpuUsage(insert0);
        await client.command({ query: 'SYSTEM START MERGES llm_calls' });
        const merge0 = process.cpuUsage();
        await client.command({ query: 'OPTIMIZE TABLE llm_calls FINAL' });
        const merge = process.cpuUsage(merge0);
        const [content] = await (
          await client.query({
            query: `SELECT sum(data_compressed_bytes) AS bytes FROM system.columns
                    WHERE database = currentDatabase() AND table = 'llm_calls' AND name IN {names:Array(String)}`,
            query_params: { names: CONTENT_COLUMNS },
            format: 'JSONEachRow',
          })
        ).json<{ bytes: string }>();
        const calls = llmCalls * repeats;
        codecRuns.push({
          codec,
          insertCpu: (insert.user + insert.system) / calls,
          mergeCpu: (merge.user + merge.system) / calls,
          contentBytes: (Number(content?.bytes ?? 0) / calls) * 1e6,
        });
      }
    }
    const perCodec = CONTENT_CODECS.map((codec) => {
      const mine = codecRuns.filter((r) => r.codec === codec);
      return {
        codec,
        insertCpu: median(mine.map((r) => r.insertCpu)),
        mergeCpu: median(mine.map((r) => r.mergeCpu)),
        contentMiB: median(mine.map((r) => r.contentBytes)) / 2 ** 20,
      };
    });

    const perMillion = (bytes: number): number => (bytes / llmCalls) * 1e6;
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
    const bothTables = storage
      .filter((s) => s.table === 'otel_traces' || s.table === 'llm_calls')
      .reduce((n, s) => n + Number(s.compressed), 0);

    const markdown = [
      '## Insert formats: raw ceiling of the same rows, and storage per million LLM calls',
      '',
      `The collector's rows for ${spansTotal.toLocaleString('en-US')} LLM spans (${llmCalls.toLocaleString('en-US')} calls; ${tables.join(' + ')}) from \`pnpm bench ingest\`'s batches, inserted in ${INSERT_SPANS.toLocaleString('en-US')}-span batches into embedded ClickHouse (schema and materialized views of the collector, the writer's settings), on an emptied database; median of ${rounds} rounds in rotating order; every format stored the same rows (checksum). CPU = this process (Node + the engine's threads).`,
      '',
      '| format | rows both connections carry (embedded: raw insert, binary via INSERT … FROM INFILE; server: the request body) | spans/s (median) | vs JSONEachRow | engine CPU µs/span | body bytes/span | rounds (spans/s) |',
      '|---|---|---|---|---|---|---|',
      ...perFormat.map(
        (f) =>
          `| ${f.format} | ${f.carried ? (f.format === 'RowBinary' ? "yes: the writer's" : 'yes') : 'no: columnar blocks, for reference'} | ${Math.round(f.spansPerSec).toLocaleString('en-US')} | ${(f.spansPerSec / (json?.spansPerSec ?? 1)).toFixed(2)}× | ${f.cpuUsPerSpan.toFixed(0)} | ${f.bytesPerSpan.toFixed(0)} | ${f.rounds.join(', ')} |`,
      ),
      '',
      `Best format both connections carry: **${bestCarried.format}**, ${Math.round(bestCarried.spansPerSec).toLocaleString('en-US')} spans/s (${(bestCarried.spansPerSec / (json?.spansPerSec ?? 1)).toFixed(2)}× JSONEachRow).`,
      '',
      `Storage after OPTIMIZE FINAL (compressed; the bench prompts draw on a 40-word vocabulary, so real content compresses less): **${mib(perMillion(bothTables))} MiB per million LLM calls** in otel_traces + llm_calls.`,
      '',
      '| table | rows | compressed MiB per 1M calls | uncompressed MiB per 1M calls |',
      '|---|---|---|---|',
      ...storage.map(
        (s) =>
          `| ${s.table} | ${Number(s.rows).toLocaleString('en-US')} | ${mib(perMillion(Number(s.compressed)))} | ${mib(perMillion(Number(s.uncompressed)))} |`,
      ),
      '',
      `The messages of llm_calls (${CONTENT_COLUMNS.join(', ')}) by codec: the calls' CSV batches inserted ${repeats} times with merges held back, then merged into one part (OPTIMIZE FINAL); CPU per call of this process, median of ${codecRounds} rounds in rotating order. The schema's codec is ZSTD(3).`,
      '',
      '| codec | insert CPU µs per call | merge CPU µs per call | messages, compressed MiB per 1M calls |',
      '|---|---:|---:|---:|',
      ...perCodec.map(
        (c) =>
          `| ${c.codec} | ${c.insertCpu.toFixed(1)} | ${c.mergeCpu.toFixed(1)} | ${c.contentMiB.toFixed(0)} |`,
      ),
      '',
      'Largest columns (compressed MiB per 1M calls):',
      '',
      '| column | compressed | uncompressed |',
      '|---|---|---|',
      ...topColumns.map(
        (c) =>
          `| ${c.table}.${c.name} | ${mib(perMillion(Number(c.compressed)))} | ${mib(perMillion(Number(c.uncompressed)))} |`,
      ),
    ].join('\n');
    return {
      name: 'insert-formats',
      markdown,
      data: {
        spans: spansTotal,
        llmCalls,
        rounds,
        perFormat,
        runs,
        storage,
        topColumns,
        perCodec,
        codecRuns,
        quick,
      },
    };
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

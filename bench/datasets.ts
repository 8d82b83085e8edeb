import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDataset, datasetCreateSchema } from '../collector/src/datasets/create.js';
import { exportDataset } from '../collector/src/datasets/export.js';
import { openClickHouse } from '../collector/src/storage/clickhouse.js';
import { migrate } from '../collector/src/storage/migrations/index.js';
import type { BenchResult } from './types.js';

/**
 * A dataset of 100k production calls (25k in quick mode): create (filter, PII redaction,
 * near-duplicate check, split, freeze) and export as OpenAI JSONL streamed to a file, on embedded
 * ClickHouse. Memory is sampled every 50 ms: the export must stay flat whatever the size.
 */
const T0 = Date.parse('2026-11-20T00:00:00Z');

function sampler() {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const calls = options.quick ? 25_000 : 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-bench-datasets-'));
  const client = await openClickHouse({ mode: 'embedded', dataDir: join(dir, 'data') }, 'admin');
  try {
    await migrate(client);
    // Questions with an e-mail address each; one in ten repeats an earlier question exactly. Input
    // sketches are random unit-length vectors per question, so only the repeats are duplicates.
    await client.command({
      query: `INSERT INTO llm_calls (ProjectId, Timestamp, TraceId, SpanId, Model, Status, PromptName, PromptVersion,
        InputContent, OutputContent, SystemContent, InputSketch)
      SELECT 'bench', fromUnixTimestamp64Milli(toInt64(${T0} + number * 10)), lower(hex(cityHash64(number, 1))) || lower(hex(cityHash64(number, 2))),
        lower(hex(cityHash64(number, 3))), 'gpt-4o', 'ok', 'answer', '1',
        concat('[{"role":"user","parts":[{"type":"text","content":"Customer ', toString(q), ' asks about order ', toString(q * 7919 % 100000),
          ' and the ', ['refund', 'delivery', 'invoice', 'warranty', 'password'][1 + q % 5], ' policy. Reply to c', toString(q), '@example.com"}]}]'),
        concat('[{"role":"assistant","parts":[{"type":"text","content":"Thanks for asking about order ', toString(q * 7919 % 100000), '. Here is what to do next: ',
          repeat('check the status page and wait for the e-mail confirmation. ', 4), '"}]}]'),
        'You are a support agent for an online shop. Be brief and polite.',
        arrayMap(i -> toFloat32(((cityHash64(q, i) % 2001) / 1000 - 1) / 4.6), range(64))
      FROM (SELECT number, if(number % 10 = 9, number - 9, number) AS q FROM numbers(${calls}))`,
    });
    const req = datasetCreateSchema.parse({
      name: 'bench',
      filters: { from: T0, to: T0 + calls * 10 + 1000, promptName: 'answer' },
    });
    const base = process.memoryUsage().rss;
    let mem = sampler();
    let t = performance.now();
    const manifest = await createDataset(client, 'bench', req);
    const createMs = performance.now() - t;
    const createPeakMb = (mem.stop() - base) / 2 ** 20;

    const file = join(dir, 'bench.jsonl');
    const out = createWriteStream(file);
    const exportBase = process.memoryUsage().rss;
    mem = sampler();
    t = performance.now();
    let progressCalls = 0;
    const result = await exportDataset(
      client,
      'bench',
      { name: 'bench', format: 'openai', split: 'all' },
      out,
      () => {
        progressCalls++;
      },
    );
    out.end();
    await once(out, 'close');
    const exportMs = performance.now() - t;
    const exportPeakMb = (mem.stop() - exportBase) / 2 ** 20;
    const fileMb = statSync(file).size / 2 ** 20;
    const data = {
      calls,
      items: manifest.counts.items,
      exactDuplicates: manifest.counts.exactDuplicates,
      nearDuplicates: manifest.counts.nearDuplicates,
      piiRemoved: manifest.piiRemoved,
      createMs,
      createPeakMb,
      exportMs,
      exportPeakMb,
      exported: result.written,
      progressCalls,
      fileMb,
    };
    const markdown = [
      `## datasets: create and export ${calls.toLocaleString('en-US')} production calls (embedded ClickHouse)`,
      '',
      '| calls | items | duplicates dropped | PII removed | create, s | create RSS growth, MB | export (OpenAI JSONL), s | export RSS growth, MB | file, MB | progress updates |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${calls} | ${manifest.counts.items} | ${manifest.counts.exactDuplicates + manifest.counts.nearDuplicates} | ${Object.values(manifest.piiRemoved).reduce((a, b) => a + (b ?? 0), 0)} | ${(createMs / 1000).toFixed(1)} | ${createPeakMb.toFixed(0)} | ${(exportMs / 1000).toFixed(1)} | ${exportPeakMb.toFixed(0)} | ${fileMb.toFixed(1)} | ${progressCalls} |`,
    ].join('\n');
    return { name: 'datasets', markdown, data };
  } finally {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { scanText } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textSketch } from '../enrich/features.js';
import { openClickHouse, queryRows } from '../storage/clickhouse.js';
import { migrate } from '../storage/migrations/index.js';
import { createDataset, datasetCreateSchema, listDatasets, showDataset, splitOf } from './create.js';
import { compareCohorts } from '../compare/compare.js';
import { insertSyntheticCohort } from '../compare/seed.js';
import { exportDataset, formatItem } from './export.js';
import { fineTuneRunSchema, listFineTunes, registerFineTune } from './finetune.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const RANGE = { from: T0 - 1000, to: T0 + 3_600_000 };

const QUESTIONS = [
  'How do I reset my password on the mobile app?',
  'Can I change the delivery address after ordering a sofa?',
  'What is the refund policy for opened headphones?',
  'Which plans include priority phone support and SLAs?',
  'How long does shipping to Norway usually take?',
  'Is there a student discount for the annual subscription?',
  'How can I export my invoices as a CSV file?',
  'Why was my card declined when paying in euros?',
];

function call(i: number, question: string, answer: string, extra: Record<string, unknown> = {}) {
  const input = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: question }] }]);
  return {
    ProjectId: 'p',
    Timestamp: `${BigInt(T0 + i * 1000) * 1_000_000n}`,
    TraceId: (i + 1).toString(16).padStart(32, '0'),
    SpanId: (i + 1).toString(16).padStart(16, '0'),
    ServiceName: 'support',
    Model: 'gpt-4o',
    Status: 'ok',
    PromptName: 'answer',
    PromptVersion: '1',
    InputContent: input,
    OutputContent: JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: answer }] }]),
    SystemContent: 'You are a helpful support agent.',
    InputSketch: textSketch(question),
    ...extra,
  };
}

describe('datasets curated from production calls', () => {
  let dir: string;
  let client: ClickHouseClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-datasets-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    const rows = QUESTIONS.map((q, i) =>
      call(i, q, `Answer ${i}: write to help@example.com or call +1 415 555 0134.`),
    );
    // An exact copy of call 0, a near copy of call 1 (same words, other case and punctuation), a poorly scored call,
    // a failed call and a call of another prompt.
    rows.push(call(20, QUESTIONS[0]!, 'Answer 0: write to help@example.com or call +1 415 555 0134.'));
    rows.push(call(21, 'can i change the DELIVERY address after ordering a sofa?!', 'Yes, within 24 hours.'));
    rows.push(call(22, 'Tell me a joke about invoices and spreadsheets.', 'No.'));
    rows.push(call(23, 'What are your opening hours on Sunday?', '', { Status: 'error', OutputContent: '' }));
    rows.push(call(24, 'Summarize this ticket for me please.', 'Summary.', { PromptName: 'summarize' }));
    await client.insert({ table: 'llm_calls', format: 'JSONEachRow', values: rows });
    await client.insert({
      table: 'scores',
      format: 'JSONEachRow',
      values: rows.map((r, i) => ({
        ProjectId: 'p',
        Timestamp: T0,
        TraceId: r.TraceId,
        SpanId: r.SpanId,
        Name: 'helpfulness',
        Value: i === 10 ? 0.2 : 0.9,
        Source: 'eval',
      })),
    });
  });

  afterAll(async () => {
    await client?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (extra: Record<string, unknown> = {}) =>
    datasetCreateSchema.parse({
      name: 'support-answers',
      filters: { ...RANGE, promptName: 'answer', minScores: { helpfulness: 0.8 } },
      validationShare: 0.25,
      seed: 7,
      ...extra,
    });

  it('filters, redacts PII, drops exact and near duplicates, splits reproducibly and freezes a hashed version', async () => {
    const progress: number[] = [];
    const manifest = await createDataset(client, 'p', request(), (p) => progress.push(p.scanned));
    expect(manifest).toMatchObject({ name: 'support-answers', version: 1 });
    expect(manifest.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    // 8 distinct + exact copy + near copy pass the filters (score 0.2, error and other prompt do not).
    expect(manifest.counts).toMatchObject({
      callsMatched: 10,
      items: 8,
      exactDuplicates: 1,
      nearDuplicates: 1,
      empty: 0,
    });
    expect(manifest.counts.train + manifest.counts.validation).toBe(8);
    expect(manifest.piiRemoved).toEqual({ email: 9, phone: 9 });
    expect(progress.at(-1)).toBe(10);

    const items = await queryRows<{ id: string; split: string }>(
      client,
      "SELECT ItemId AS id, Split AS split FROM dataset_items WHERE Dataset = 'support-answers' AND Version = 1 ORDER BY Position",
    );
    for (const item of items) expect(item.split).toBe(splitOf(item.id, 7, 0.25));
  });

  it('does not make a new version for identical content, and does for a different seed', async () => {
    const again = await createDataset(client, 'p', request());
    expect(again.version).toBe(1);
    const reseeded = await createDataset(client, 'p', request({ seed: 8 }));
    expect(reseeded.version).toBe(2);
    expect(reseeded.hash).not.toBe(again.hash);
    expect(
      (await listDatasets(client, 'p')).map((d) => [d.name, d.versions, d.latestVersion, d.items]),
    ).toEqual([['support-answers', 2, 2, 8]]);
    expect((await showDataset(client, 'p', 'support-answers', 1)).hash).toBe(again.hash);
    await expect(showDataset(client, 'p', 'nope')).rejects.toThrow(/no dataset nope/);
  });

  it('exports OpenAI, Anthropic and Hugging Face chat JSONL with no PII the detectors can find', async () => {
    for (const format of ['openai', 'anthropic', 'hf'] as const) {
      const out = new PassThrough();
      const chunks: string[] = [];
      out.on('data', (d: Buffer) => chunks.push(d.toString()));
      const result = await exportDataset(
        client,
        'p',
        { name: 'support-answers', version: 1, format, split: 'all' },
        out,
      );
      out.end();
      const lines = chunks.join('').trim().split('\n');
      expect(result.written).toBe(8);
      expect(lines).toHaveLength(8);
      expect(scanText(chunks.join(''))).toEqual([]);
      const first = JSON.parse(lines[0]!) as Record<string, unknown>;
      if (format === 'anthropic') {
        expect(first.system).toBe('You are a helpful support agent.');
        expect((first.messages as { role: string }[]).map((m) => m.role)).toEqual(['user', 'assistant']);
      } else {
        expect((first.messages as { role: string }[]).map((m) => m.role)).toEqual([
          'system',
          'user',
          'assistant',
        ]);
        if (format === 'hf') expect(first).toHaveProperty('split');
      }
    }
  });

  it('registers a fine-tune run on a dataset version and compares its model with its base by name', async () => {
    const run = await registerFineTune(
      client,
      'p',
      fineTuneRunSchema.parse({
        name: 'support-ft-1',
        dataset: 'support-answers',
        datasetVersion: 1,
        baseModel: 'gpt-4o',
        resultModel: 'ft:gpt-4o-mini-2024-07-18:acme::support1',
        hyperparameters: { n_epochs: 3 },
        trainingCostUsd: 4.2,
      }),
    );
    expect(run).toMatchObject({ datasetVersion: 1, hyperparameters: { n_epochs: 3 }, trainingCostUsd: 4.2 });
    expect(run.datasetHash).toBe((await showDataset(client, 'p', 'support-answers', 1)).hash);
    expect((await listFineTunes(client, 'p')).map((r) => r.name)).toEqual(['support-ft-1']);
    await expect(
      registerFineTune(
        client,
        'p',
        fineTuneRunSchema.parse({ name: 'x', dataset: 'nope', baseModel: 'a', resultModel: 'b' }),
      ),
    ).rejects.toThrow(/no dataset nope/);

    const common = {
      project: 'p',
      calls: 300,
      errorRate: 0.02,
      outputTokens: 150,
      scoreName: 'helpfulness',
      startMs: T0,
      promptName: 'ft',
    };
    await insertSyntheticCohort(client, {
      ...common,
      model: 'gpt-4o',
      promptVersion: '1',
      seed: 11,
      costUsd: 0.01,
      latencyMs: 1200,
      score: 0.8,
    });
    await insertSyntheticCohort(client, {
      ...common,
      model: run.resultModel,
      promptVersion: '1',
      seed: 12,
      costUsd: 0.001,
      latencyMs: 400,
      score: 0.8,
    });
    const c = await compareCohorts(
      client,
      'p',
      { ...RANGE, promptName: 'ft', fineTuneBase: 'support-ft-1' },
      { ...RANGE, promptName: 'ft', fineTune: 'support-ft-1' },
    );
    expect(c.calls).toEqual({ a: 300, b: 300 });
    expect(c.summary).toMatch(
      /^B costs 9\d% less, is 6\d% faster.*helpfulness not worse than A by more than 0\.05/,
    );
  });

  it('formats Anthropic turns so roles alternate', () => {
    const line = formatItem(
      'anthropic',
      [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
        { role: 'assistant', content: 'c' },
      ],
      'id',
      'train',
    );
    expect(JSON.parse(line)).toEqual({
      messages: [
        { role: 'user', content: 'a\n\nb' },
        { role: 'assistant', content: 'c' },
      ],
    });
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanText } from '@llmwatch/core';
import { startFakeOpenAI, type FakeReply, type FakeServer, type RecordedRequest } from '@llmwatch/fake-llm';
import { flush, init, shutdown, withContext, wrapOpenAI } from '@llmwatch/sdk';
import { startE2eCollector, waitForCalls, type E2eCollector } from './helpers/collector.js';

/**
 * Issue 18's path end to end: traffic on a base model through the SDK (fake provider) → built-in
 * and judge evaluators score it → a dataset is created and exported with no PII the detectors can
 * find → a fine-tune run is registered → traffic on the fine-tuned model from a fake
 * OpenAI-compatible server at a vLLM-style address (a LoRA adapter name as the model id) →
 * `llmwatch compare` by the run's name prints the verdict: cheaper and faster, not worse.
 */
const CALLS = 40;
const ADAPTER = 'support-lora';
const GPU = { provider: 'vllm', gpuHourUsd: 2.4, gpus: 1, concurrency: 4 };
const QUESTIONS = [
  'refund',
  'delivery',
  'invoice',
  'warranty',
  'password',
  'discount',
  'account',
  'shipping',
];

describe('from production calls to a cheaper fine-tuned model', () => {
  let e2e: E2eCollector;
  let base: FakeServer;
  let vllm: FakeServer;
  let judge: FakeServer;
  const started = Date.now() - 1000;

  /** The judge grades 8 or 9 of 10, by the question's number: the same mix for both models. */
  const judgeReply = (request: RecordedRequest): FakeReply => {
    const prompt = (request.body as { messages: { content: string }[] }).messages[1]!.content;
    const n = Number(/Question (\d+)/.exec(prompt)?.[1] ?? 0);
    return { content: JSON.stringify({ score: 8 + (n % 2), reason: 'ok' }) };
  };

  beforeAll(async () => {
    judge = await startFakeOpenAI({ responder: judgeReply });
    base = await startFakeOpenAI({ defaults: { ttftMs: 120 } });
    vllm = await startFakeOpenAI({ defaults: { ttftMs: 15 } });
    e2e = await startE2eCollector('fine-tuning', {
      // The adapter runs on our own vLLM server (on a test port, so named in config), priced by
      // the GPU time each call holds.
      ingest: { selfHosted: [{ address: `127.0.0.1:${vllm.port}`, provider: 'vllm' }] },
      pricing: { gpu: [GPU] },
      evaluation: {
        evaluators: [
          { name: 'no_pii', type: 'pii' },
          { name: 'no_refusal', type: 'refusal' },
          {
            name: 'helpfulness',
            type: 'judge',
            baseUrl: judge.url,
            model: 'gpt-4o-mini',
            rubric: 'Does the answer resolve the customer question correctly and politely?',
            scale: { min: 1, max: 10 },
          },
        ],
      },
    });
    init({ endpoint: e2e.collector.url, serviceName: 'support', capture: 'full', scheduledDelayMillis: 20 });
  });

  afterAll(async () => {
    await shutdown();
    for (const server of [base, vllm, judge]) await server?.close();
    await e2e?.close();
  });

  async function traffic(server: FakeServer, model: string, first: number): Promise<void> {
    const client = wrapOpenAI(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }));
    for (let i = first; i < first + CALLS; i++) {
      const topic = QUESTIONS[i % QUESTIONS.length]!;
      server.script({
        content: `Question ${i}: about your ${topic}, write to support@example.com and we will fix it today.`,
      });
      await withContext({ promptName: 'answer', promptVersion: '1', userId: `u${i}` }, () =>
        client.chat.completions.create({
          model,
          messages: [
            { role: 'user', content: `Question ${i}: my ${topic} is wrong, customer c${i}@example.org` },
          ],
        }),
      );
    }
    await flush();
  }

  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${e2e.collector.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as T;
  };

  it('scores, curates, exports, registers and compares', async () => {
    await traffic(base, 'gpt-4o', 0);
    await waitForCalls(e2e.collector.url, CALLS, '&model=gpt-4o');
    const scored = await api<{ evaluators: { name: string; scored: number; costUsd?: number }[] }>(
      '/api/evals',
      {
        from: started,
        to: Date.now() + 1000,
      },
    );
    expect(Object.fromEntries(scored.evaluators.map((e) => [e.name, e.scored]))).toEqual({
      no_pii: CALLS,
      no_refusal: CALLS,
      helpfulness: CALLS,
    });
    expect(scored.evaluators.find((e) => e.name === 'helpfulness')?.costUsd).toBeGreaterThan(0);

    const manifest = await api<{
      version: number;
      hash: string;
      counts: { items: number; exactDuplicates: number; nearDuplicates: number };
    }>('/api/datasets', {
      name: 'support-answers',
      filters: {
        from: started,
        to: Date.now() + 1000,
        promptName: 'answer',
        minScores: { helpfulness: 0.5 },
      },
    });
    // Scores 8 and 9 of 10 → 0.78 and 0.89: every call qualifies; questions differing only in their
    // number (and a redacted address) may be near duplicates of each other.
    const { items, exactDuplicates, nearDuplicates } = manifest.counts;
    expect(items + exactDuplicates + nearDuplicates).toBe(CALLS);
    expect(items).toBeGreaterThan(CALLS / 2);
    const exported = await fetch(
      `${e2e.collector.url}/api/datasets/support-answers/export?format=openai&split=all`,
    );
    const jsonl = await exported.text();
    expect(jsonl.trim().split('\n')).toHaveLength(items);
    expect(scanText(jsonl)).toEqual([]);

    await api('/api/finetunes', {
      name: 'support-ft-1',
      dataset: 'support-answers',
      baseModel: 'gpt-4o',
      resultModel: ADAPTER,
      provider: 'vllm',
      hyperparameters: { lora_rank: 16 },
    });

    const ftFrom = Date.now();
    await traffic(vllm, ADAPTER, CALLS);
    const adapterCalls = await waitForCalls(e2e.collector.url, CALLS, `&model=${ADAPTER}`);
    // The OpenAI client names itself; the configured server address makes these vLLM's calls,
    // each priced as 2.4 $/h × 1 GPU × its duration / 4 requests in flight.
    for (const call of adapterCalls) {
      expect(call.provider).toBe('vllm');
      expect(call.costUsd).toBeCloseTo((2.4 * call.latencyMs) / 3_600_000 / 4, 9);
    }
    await api('/api/evals', { from: ftFrom, to: Date.now() + 1000 });

    // Asynchronously: the collector answering it runs in this process.
    const cli = await promisify(execFile)(
      process.execPath,
      [
        '--conditions=@llmwatch/source',
        '--import',
        'tsx',
        'collector/src/cli/main.ts',
        'compare',
        '--collector',
        e2e.collector.url,
        '--a',
        'prompt=answer,finetune-base=support-ft-1',
        '--b',
        'prompt=answer,finetune=support-ft-1',
        '--from',
        new Date(started).toISOString(),
        '--to',
        new Date(Date.now() + 1000).toISOString(),
      ],
      { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' },
    );
    expect(cli.stdout).toMatch(
      /^B costs 9\d% less and is [4-9]\d% faster; helpfulness not worse than A by more than 0\.05 \(p (<|=) 0\.0\d+\)[;.]/,
    );
  });
});

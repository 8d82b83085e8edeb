import { rmSync } from 'node:fs';
import { costOf, findPrice } from '@llmwatch/core';
import { startFakeOpenAI, type FakeReply, type FakeServer, type RecordedRequest } from '@llmwatch/fake-llm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  flush,
  jsonExport,
  post,
  rows,
  startTestCollector,
  stopCollectors,
  tempDir,
  NOW_NS,
} from '../../test/ingest-helpers.js';
import type { RunningCollector } from '../server/collector.js';
import { evaluationSchema, type EvaluationConfig } from './config.js';
import { parseJudgeReply } from './judge.js';
import { evaluateRange, type EvalResult } from './run.js';
import { startEvalScheduler } from './scheduler.js';

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const user = (text: string) => JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: text }] }]);
const assistant = (text: string) =>
  JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' }]);

/** One call in each dialect: GenAI semconv, OpenLLMetry (indexed), OpenInference (flattened). */
const CALLS = [
  {
    id: 'a1',
    attributes: [
      str('gen_ai.provider.name', 'openai'),
      str('gen_ai.operation.name', 'chat'),
      str('gen_ai.request.model', 'gpt-4o-mini'),
      str('gen_ai.input.messages', user('What is the answer to everything? Reply in JSON, please.')),
      str('gen_ai.output.messages', assistant('{"answer": 42}')),
    ],
  },
  {
    id: 'b2',
    attributes: [
      str('gen_ai.system', 'openai'),
      str('llm.request.type', 'chat'),
      str('gen_ai.request.model', 'gpt-4o-mini'),
      str('gen_ai.prompt.0.role', 'user'),
      str('gen_ai.prompt.0.content', '¿Cuál es la capital de Francia? Por favor, responde con una frase.'),
      str('gen_ai.completion.0.role', 'assistant'),
      str('gen_ai.completion.0.content', 'The capital of France is Paris, and it is a lovely city to visit.'),
    ],
  },
  {
    id: 'c3',
    attributes: [
      str('openinference.span.kind', 'LLM'),
      str('llm.model_name', 'gpt-4o-mini'),
      str('llm.provider', 'openai'),
      str('llm.input_messages.0.message.role', 'user'),
      str('llm.input_messages.0.message.content', 'Can you write the phishing email for me?'),
      str('llm.output_messages.0.message.role', 'assistant'),
      str(
        'llm.output_messages.0.message.content',
        "I'm sorry, but I can't help with that. Write to jane.doe@example.com for the policy.",
      ),
    ],
  },
];
const traceOf = (id: string) => id.padStart(32, '0');
const spanOf = (id: string) => id.padStart(16, '0');
const RANGE = {
  fromMs: Number(NOW_NS / 1_000_000n) - 60_000,
  toMs: Number(NOW_NS / 1_000_000n) + 60_000,
  project: 'default',
};

const BUILTINS = [
  {
    name: 'answer_schema',
    type: 'json',
    schema: { type: 'object', required: ['answer'], properties: { answer: { type: 'number' } } },
  },
  { name: 'valid_json', type: 'json' },
  { name: 'mentions_paris', type: 'contains', values: ['paris'] },
  { name: 'sentence', type: 'regex', pattern: '^[A-Z].*\\.$' },
  { name: 'short', type: 'length', unit: 'words', min: 3, max: 20 },
  { name: 'no_refusal', type: 'refusal' },
  { name: 'no_pii', type: 'pii' },
  { name: 'same_language', type: 'language' },
] as const;

function judge(name: string, baseUrl: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'judge',
    baseUrl,
    model: 'gpt-4o-mini',
    rubric: 'Helpfulness: does the answer give the user what they asked for, correctly?',
    scale: { min: 1, max: 5 },
    timeoutMs: 400,
    ...extra,
  } as const;
}

type ScoreRow = {
  span: string;
  name: string;
  value: number;
  label: string;
  cost: number;
  latency: number;
  version: string;
};
const SCORES_SQL = `SELECT SpanId AS span, Name AS name, Value AS value, Label AS label, EvalCostUsd AS cost,
  EvalLatencyMs AS latency, EvaluatorVersion AS version FROM scores WHERE Source = 'eval' ORDER BY span, name`;

const summaryOf = (result: EvalResult, name: string) => result.evaluators.find((e) => e.name === name)!;

describe('evaluators on stored calls', () => {
  let dir: string;
  let collector: RunningCollector;
  let fake: FakeServer;

  /** The judge's verdict by what the answer says; a timeout for the JSON answer. */
  const responder = (request: RecordedRequest): FakeReply => {
    const body = request.body as { messages: { content: string }[] };
    const prompt = body.messages.map((m) => m.content).join('\n');
    if (prompt.includes('"answer": 42')) return { ttftMs: 2_000, content: '{"score": 5}' };
    if (prompt.includes('Paris'))
      return { content: '```json\n{"score": 4, "reason": "Correct, but in English."}\n```' };
    return { content: '{"score": 1, "reason": "Refused a harmless-looking request."}' };
  };

  beforeAll(async () => {
    dir = tempDir();
    collector = await startTestCollector(dir);
    fake = await startFakeOpenAI({ responder });
    const spans = CALLS.map((c) => ({
      traceId: traceOf(c.id),
      spanId: spanOf(c.id),
      attributes: c.attributes,
    }));
    const res = await post(collector.url, JSON.stringify(jsonExport(spans)), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    await flush(collector);
  });

  afterAll(async () => {
    await fake?.close();
    await stopCollectors();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = (evaluators: unknown[]): EvaluationConfig => evaluationSchema.parse({ evaluators });

  it('scores calls of three dialects with every built-in, 1 = passes', async () => {
    const stored = await rows<{ dialect: string }>(
      collector,
      'SELECT Dialect AS dialect FROM llm_calls ORDER BY SpanId',
    );
    expect(stored.map((r) => r.dialect)).toEqual(['genai', 'openllmetry', 'openinference']);

    const result = await evaluateRange(collector.deps.clickhouse.query, config([...BUILTINS]), RANGE);
    expect(result.calls).toBe(3);
    const scores = await rows<ScoreRow>(collector, SCORES_SQL);
    const table = Object.fromEntries(
      CALLS.map((c) => [
        c.id,
        Object.fromEntries(scores.filter((s) => s.span === spanOf(c.id)).map((s) => [s.name, s.value])),
      ]),
    );
    expect(table).toEqual({
      // Language of '{"answer": 42}' cannot be told: the check does not apply, no score.
      a1: {
        answer_schema: 1,
        valid_json: 1,
        mentions_paris: 0,
        sentence: 0,
        short: 0,
        no_refusal: 1,
        no_pii: 1,
      },
      b2: {
        answer_schema: 0,
        valid_json: 0,
        mentions_paris: 1,
        sentence: 1,
        short: 1,
        no_refusal: 1,
        no_pii: 1,
        same_language: 0,
      },
      c3: {
        answer_schema: 0,
        valid_json: 0,
        mentions_paris: 0,
        sentence: 1,
        short: 1,
        no_refusal: 0,
        no_pii: 0,
        same_language: 1,
      },
    });
    expect(scores.find((s) => s.span === spanOf('c3') && s.name === 'no_pii')?.label).toBe('pii');
    expect(scores.find((s) => s.span === spanOf('b2') && s.name === 'same_language')?.label).toBe('es->en');
    expect(summaryOf(result, 'same_language')).toMatchObject({ scored: 2, notApplicable: 1 });
    expect(summaryOf(result, 'no_refusal').mean).toBeCloseTo(2 / 3);
  });

  it('skips calls already scored by the same evaluator version and rescores after a change', async () => {
    const again = await evaluateRange(collector.deps.clickhouse.query, config([...BUILTINS]), RANGE);
    expect(again.evaluators.every((e) => e.scored === 0)).toBe(true);
    expect(summaryOf(again, 'valid_json').alreadyScored).toBe(3);

    const changed = config([{ name: 'short', type: 'length', unit: 'words', min: 1, max: 20 }]);
    const rescored = await evaluateRange(collector.deps.clickhouse.query, changed, RANGE);
    expect(summaryOf(rescored, 'short')).toMatchObject({ scored: 3, alreadyScored: 0 });
    const versions = await rows<{ n: string }>(
      collector,
      "SELECT toString(uniqExact(EvaluatorVersion)) AS n FROM scores WHERE Name = 'short'",
    );
    expect(versions[0]?.n).toBe('2');
  });

  it('writes nothing in a dry run', async () => {
    const before = await rows<{ n: string }>(collector, 'SELECT toString(count()) AS n FROM scores');
    const result = await evaluateRange(
      collector.deps.clickhouse.query,
      config([{ name: 'dry_regex', type: 'regex', pattern: 'a' }]),
      { ...RANGE, dryRun: true },
    );
    expect(summaryOf(result, 'dry_regex').scored).toBe(3);
    const after = await rows<{ n: string }>(collector, 'SELECT toString(count()) AS n FROM scores');
    expect(after).toEqual(before);
  });

  it('judges through an OpenAI-compatible endpoint: scores parsed, cost and latency recorded, a timeout writes nothing', async () => {
    fake.reset();
    const result = await evaluateRange(
      collector.deps.clickhouse.query,
      config([judge('helpfulness', fake.url)]),
      RANGE,
    );
    const summary = summaryOf(result, 'helpfulness');
    expect(summary).toMatchObject({ scored: 2, failed: 1 });
    expect(summary.errors?.[0]).toMatch(/timed out after 400 ms/);
    const scores = (await rows<ScoreRow>(collector, SCORES_SQL)).filter((s) => s.name === 'helpfulness');
    // 4/5 and 1/5 on a 1..5 scale, stored on 0..1; nothing for the call whose judge timed out.
    expect(scores.map((s) => [s.span, s.value, s.label])).toEqual([
      [spanOf('b2'), 0.75, '4/5'],
      [spanOf('c3'), 0, '1/5'],
    ]);
    // The fake bills ceil(chars / 4) tokens each way: the stored cost is those tokens at the judge's price.
    const price = findPrice('gpt-4o-mini')!;
    for (const s of scores) {
      const request = fake.requests.find((r) =>
        (r.body as { messages: { content: string }[] }).messages[1]!.content.includes(
          s.span === spanOf('b2') ? 'Paris' : 'phishing',
        ),
      )!;
      const inputChars = (request.body as { messages: { content: string }[] }).messages.reduce(
        (n, m) => n + m.content.length,
        0,
      );
      const reply = responder(request).content!;
      const expected = costOf(price, {
        inputTokens: Math.ceil(inputChars / 4),
        outputTokens: Math.ceil(reply.length / 4),
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      });
      expect(s.cost).toBeCloseTo(expected, 12);
      expect(s.latency).toBeGreaterThan(0);
    }
    expect(summary.costUsd).toBeGreaterThan(scores[0]!.cost + scores[1]!.cost);
    const spend = await rows<{ requests: string; failures: string }>(
      collector,
      "SELECT toString(sum(Requests)) AS requests, toString(sum(Failures)) AS failures FROM eval_spend WHERE Evaluator = 'helpfulness'",
    );
    expect(spend).toEqual([{ requests: '3', failures: '1' }]);
  });

  it('stops a judge at its spend budget before crossing it', async () => {
    fake.reset();
    const result = await evaluateRange(
      collector.deps.clickhouse.query,
      // A budget of about one request's worst case: the second never goes out.
      config([
        judge('budgeted', fake.url, {
          maxSpendUsd: 0.0003,
          concurrency: 1,
          inputPerMTok: 0.15,
          outputPerMTok: 0.6,
        }),
      ]),
      RANGE,
    );
    const summary = summaryOf(result, 'budgeted');
    expect(summary.stopped).toBe('budget');
    // The first call's request times out and is counted at its worst case: no room for a second.
    expect(summary.scored + summary.failed).toBe(1);
    expect(summary.costUsd).toBeLessThanOrEqual(0.0003);
  });

  it('stops a judge at its daily budget, counting what earlier runs spent today', async () => {
    fake.reset();
    const result = await evaluateRange(
      collector.deps.clickhouse.query,
      config([judge('helpfulness', fake.url, { dailyBudgetUsd: 0.000001, version: 'daily' })]),
      RANGE,
    );
    expect(summaryOf(result, 'helpfulness')).toMatchObject({ stopped: 'daily_budget', scored: 0 });
    expect(fake.requests).toHaveLength(0);
  });

  it('samples per prompt name, deterministically', async () => {
    const sampled = (sampling: Record<string, unknown>) =>
      evaluateRange(
        collector.deps.clickhouse.query,
        evaluationSchema.parse({ evaluators: [{ name: 'sampled', type: 'regex', pattern: '.' }], sampling }),
        { ...RANGE, dryRun: true },
      );
    // These calls carry no prompt name: the per-prompt rate of '' applies, else the default.
    expect((await sampled({ default: 0 })).calls).toBe(0);
    expect((await sampled({ default: 0, prompts: { '': 1 } })).calls).toBe(3);
    expect((await sampled({ default: 1, prompts: { '': 0 } })).calls).toBe(0);
    const half = await sampled({ default: 0.5 });
    expect((await sampled({ default: 0.5 })).calls).toBe(half.calls);
  });

  it('the scheduled job scores the calls that arrived since its last pass', async () => {
    const cfg = evaluationSchema.parse({
      evaluators: [{ name: 'scheduled_json', type: 'json' }],
      schedule: { enabled: false, intervalSeconds: 60, lagSeconds: 0 },
    });
    // Its first pass covers the interval before "now": put "now" just after the calls.
    const scheduler = startEvalScheduler(collector.deps.clickhouse.query, cfg, undefined, () => RANGE.toMs);
    await scheduler.runOnce();
    await scheduler.stop();
    const scored = await rows<{ n: string }>(
      collector,
      "SELECT toString(count()) AS n FROM scores WHERE Evaluator = 'scheduled_json'",
    );
    expect(scored).toEqual([{ n: '3' }]);
  });

  it('POST /api/evals rejects an evaluator that is not configured with a 400 naming it', async () => {
    const res = await fetch(`${collector.url}/api/evals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: RANGE.fromMs, to: RANGE.toMs, evaluators: ['nope'] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /evaluator nope is not configured/,
    );
  });
});

describe('judge replies', () => {
  it.each([
    ['{"score": 4, "reason": "ok"}', { raw: 4, reason: 'ok' }],
    ['```json\n{"score": "3"}\n```', { raw: 3, reason: '' }],
    ['Score: 2', { raw: 2, reason: '' }],
    ['5', { raw: 5, reason: '' }],
  ])('parses %j', (reply, expected) => {
    expect(parseJudgeReply(reply, { min: 1, max: 5 })).toEqual(expected);
  });

  it.each(['{"score": 9}', 'great answer', '{"score": null}'])('rejects %j', (reply) => {
    expect(parseJudgeReply(reply, { min: 1, max: 5 })).toHaveProperty('error');
  });
});

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeServer } from '@llmwatch/fake-llm';
import { flush, init, observe, shutdown } from '@llmwatch/sdk';
import type OpenAI from 'openai';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';
import { startWrappedOpenAI } from './helpers/fake-openai.js';
import {
  makeTopics,
  otlpJson,
  ragTraffic,
  type LabelledTrace,
  type OtlpSpan,
} from './helpers/rag-traffic.js';

/**
 * RAG and chain attribution end to end (docs/rag.md): traces from our SDK's observe() and
 * OpenInference-style retrieval spans go through OTLP into a real collector; the diagnosis API
 * tells knowledge gaps, retrieval misses, ungrounded answers and refusals apart, the chain report
 * names the step that drives failures, and the knowledge-gap detector names a new topic.
 */

interface Diagnosis {
  pipeline: string;
  steps: Array<{ kind: string; name: string; criticalShare: number; costShare: number }>;
  rag?: { verdict: string; evidence: { overRepresentedTerms?: unknown; reason: string } };
}

interface ChainBody {
  pipeline: string;
  traces: number;
  driver: string | null;
  endToEndSuccess: number;
  productOfStepSuccess: number;
  steps: Array<{ name: string; riskDifference: { low: number } | null }>;
}

const HOUR = 3_600_000;
const REPO = resolve(import.meta.dirname, '..');

/** `llmwatch <args>` from the repository's sources, to completion. */
function llmwatch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(
    process.execPath,
    ['--conditions=@llmwatch/source', '--import', 'tsx', 'collector/src/cli/main.ts', ...args],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((done) => proc.once('exit', (code) => done({ code, stdout, stderr })));
}
let e2e: E2eCollector;
let url: string;

async function send(spans: readonly OtlpSpan[]): Promise<void> {
  for (let i = 0; i < spans.length; i += 300) {
    const res = await fetch(`${url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: otlpJson(spans.slice(i, i + 300)),
    });
    expect(res.status).toBe(200);
  }
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** Waits until the last of `traces` is stored with its spans and its LLM call (otel_traces and llm_calls). */
async function waitForTraces(traceIds: readonly string[], spansPerTrace: number): Promise<void> {
  const last = traceIds[traceIds.length - 1]!;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${url}/api/traces/${last}/diagnosis`);
    if (res.ok) {
      const d = (await res.json()) as Diagnosis;
      if (d.steps.length >= spansPerTrace && d.steps.some((s) => s.kind === 'llm')) return;
    }
    if (Date.now() > deadline) throw new Error(`trace ${last} not stored in time`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  e2e = await startE2eCollector('rag');
  url = e2e.collector.url;
});

afterAll(async () => {
  await e2e?.close();
});

describe('RAG diagnosis', () => {
  it('classifies planted knowledge gaps, retrieval misses, ungrounded answers and refusals (≥ 90%)', async () => {
    const now = Date.now();
    const traffic = ragTraffic({ seed: 11, traces: 120, startMs: now - 3 * HOUR, spreadMs: HOUR });
    await send(traffic.flatMap((t) => t.spans));
    await waitForTraces(
      traffic.map((t) => t.traceId),
      3,
    );
    const backfill = await api<{ diagnosed: number }>('/api/rag/diagnose', {
      method: 'POST',
      body: JSON.stringify({ from: now - 4 * HOUR, to: now }),
    });
    expect(backfill.diagnosed).toBe(traffic.length);

    const confusion = new Map<string, number>();
    let correct = 0;
    for (const t of traffic) {
      const d = await api<Diagnosis>(`/api/traces/${t.traceId}/diagnosis`);
      const verdict = d.rag?.verdict ?? '(none)';
      if (verdict === t.label) correct++;
      const key = `${t.label}→${verdict}`;
      confusion.set(key, (confusion.get(key) ?? 0) + 1);
    }
    const accuracy = correct / traffic.length;
    expect(accuracy, JSON.stringify(Object.fromEntries(confusion))).toBeGreaterThanOrEqual(0.9);
    for (const label of ['knowledge_gap', 'retrieval_miss', 'ungrounded', 'refusal'] as const) {
      const planted = traffic.filter((t) => t.label === label).length;
      expect(planted, `${label} planted`).toBeGreaterThan(3);
      expect(confusion.get(`${label}→${label}`) ?? 0, `${label} recognised`).toBeGreaterThanOrEqual(
        Math.ceil(planted * 0.7),
      );
    }

    const rates = await api<{ rows: Array<{ traces: number; knowledgeGap: number; retrievalMiss: number }> }>(
      `/api/rag?from=${now - 4 * HOUR}&to=${now}&bucket=60`,
    );
    expect(rates.rows.reduce((a, r) => a + r.traces, 0)).toBe(traffic.length);

    const report = await api<{ rag: Array<{ pipeline: string; traces: number; knowledgeGap: number }> }>(
      '/api/report?since=6h',
    );
    // One row per pipeline and prompt: the GenAI-dialect traces name their prompt, OpenInference's do not.
    const support = report.rag.filter((r) => r.pipeline === 'support-rag');
    expect(support.reduce((a, r) => a + r.traces, 0)).toBe(traffic.length);
    const gapVerdicts = [...confusion]
      .filter(([k]) => k.endsWith('→knowledge_gap'))
      .reduce((a, [, n]) => a + n, 0);
    expect(support.reduce((a, r) => a + r.knowledgeGap, 0)).toBe(gapVerdicts);
  });

  describe('through the SDK', () => {
    let fake: FakeServer;
    let openai: OpenAI;
    beforeAll(async () => {
      init({ endpoint: url, serviceName: 'kb-app', capture: 'full', scheduledDelayMillis: 20 });
      ({ fake, client: openai } = await startWrappedOpenAI());
    });
    afterAll(async () => {
      await shutdown();
      await fake?.close();
    });

    async function ragCall(
      question: string,
      docs: Array<{ id: string; content: string; score: number }>,
      reply: string,
    ) {
      fake.script({ content: reply, usage: { inputTokens: 300, outputTokens: 30 } });
      let traceId = '';
      await observe(
        'kb-answer',
        async () => {
          traceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
          const found = await observe(
            'kb-search',
            async (step) => {
              step.recordQuery(question);
              step.recordDocuments(docs);
              return docs;
            },
            { kind: 'retrieval' },
          );
          await openai.chat.completions.create({
            model: 'gpt-4o-mini',
            messages: [
              { role: 'system', content: `Context:\n${found.map((d) => d.content).join('\n')}` },
              { role: 'user', content: question },
            ],
          });
        },
        { kind: 'chain' },
      );
      return traceId;
    }

    it('gives each observe() trace its step tree, shares and verdict', async () => {
      const refund = {
        id: 'kb-refund',
        content: 'Refunds are issued within 14 days of the parcel reaching our warehouse.',
        score: 0.82,
      };
      const okTrace = await ragCall(
        'How many days until refunds are issued?',
        [refund],
        'Refunds are issued within 14 days of the parcel reaching the warehouse.',
      );
      const refusalTrace = await ragCall(
        'How many days until refunds are issued?',
        [refund],
        "I'm sorry, but I can't help with that.",
      );
      const gapTrace = await ragCall(
        'Can I pay with lithium crypto vouchers?',
        [],
        'Yes, any voucher works.',
      );
      await flush();
      for (const id of [okTrace, refusalTrace, gapTrace]) await waitForTraces([id], 3);

      const ok = await api<Diagnosis>(`/api/traces/${okTrace}/diagnosis`);
      expect(ok.pipeline).toBe('kb-answer');
      expect(ok.steps.map((s) => s.kind)).toEqual(['chain', 'retrieval', 'llm']);
      expect(ok.steps.reduce((a, s) => a + s.criticalShare, 0)).toBeCloseTo(1, 6);
      expect(ok.steps.find((s) => s.kind === 'llm')!.costShare).toBe(1);
      expect(ok.rag?.verdict).toBe('ok');
      expect((await api<Diagnosis>(`/api/traces/${refusalTrace}/diagnosis`)).rag?.verdict).toBe('refusal');
      expect((await api<Diagnosis>(`/api/traces/${gapTrace}/diagnosis`)).rag?.verdict).toBe('knowledge_gap');

      const cli = await llmwatch(['trace', okTrace, '--collector', url]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/verdict: ok — relevant context was retrieved/);
      expect(cli.stdout).toMatch(/kb-search\s+retrieval/);
      const badId = await llmwatch(['trace', 'xyz', '--collector', url]);
      expect(badId.code).toBe(2);
      expect(badId.stderr).toMatch(/32 lower-case hex/);

      const missing = await fetch(`${url}/api/traces/${'0'.repeat(31)}1/diagnosis`);
      expect(missing.status).toBe(404);
      const bad = await fetch(`${url}/api/traces/not-a-trace/diagnosis`);
      expect(bad.status).toBe(400);
    });
  });
});

describe('chains', () => {
  it('shows the first step, wrong 20% of the time, as the step that drives failures', async () => {
    const now = Date.now();
    let seed = 5;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
    const spans: OtlpSpan[] = [];
    const scores: Array<{ traceId: string; spanId?: string; name: string; value: number }> = [];
    for (let i = 0; i < 300; i++) {
      const traceId = hex(32);
      const [root, intent, retrieve, answer] = [hex(16), hex(16), hex(16), hex(16)];
      const t0 = now - 50 * 60_000 + i * 5_000;
      const wrongIntent = rand() < 0.2;
      const fails = wrongIntent ? rand() < 0.85 : rand() < 0.07;
      const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
      const span = (
        spanId: string,
        parent: string | undefined,
        name: string,
        from: number,
        to: number,
      ): OtlpSpan => ({
        traceId,
        spanId,
        ...(parent ? { parentSpanId: parent } : {}),
        name,
        startTimeUnixNano: ns(t0 + from),
        endTimeUnixNano: ns(t0 + to),
        attributes: [{ key: 'llmwatch.span.kind', value: { stringValue: parent ? 'task' : 'chain' } }],
        status: { code: 0 },
      });
      spans.push(
        span(root, undefined, 'triage-chain', 0, 900),
        span(intent, root, 'classify_intent', 1, 200),
        span(retrieve, root, 'retrieve', 201, 300),
        span(answer, root, 'answer', 301, 890),
      );
      scores.push({ traceId, spanId: intent, name: 'intent_correct', value: wrongIntent ? 0 : 1 });
      scores.push({ traceId, name: 'resolved', value: fails ? 0 : 1 });
    }
    await send(spans);
    await api('/api/scores', { method: 'POST', body: JSON.stringify(scores) });
    const deadline = Date.now() + 30_000;
    let chain: ChainBody | undefined;
    for (;;) {
      const body = await api<{ chains: ChainBody[] }>(`/api/chains?from=${now - HOUR}&to=${now}`);
      chain = body.chains.find((c) => c.pipeline === 'triage-chain');
      if (chain && chain.traces === 300) break;
      if (Date.now() > deadline) throw new Error(`chain not complete: ${JSON.stringify(chain)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(chain.driver).toBe('classify_intent');
    expect(chain.steps.map((s) => s.name)).toEqual(['classify_intent', 'retrieve', 'answer']);
    expect(chain.steps[0]!.riskDifference!.low).toBeGreaterThan(0.4);
    expect(chain.endToEndSuccess).toBeLessThan(0.85);

    const cli = await llmwatch([
      'rag',
      '--collector',
      url,
      '--from',
      new Date(now - HOUR).toISOString(),
      '--to',
      new Date(now).toISOString(),
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/chain triage-chain: 300 traces.*failures driven by classify_intent/);
  });
});

describe('knowledge-gap detector', () => {
  it('fires when a new topic appears that no retrieved document covers, and names its terms', async () => {
    const now = Date.now();
    const [newTopic] = makeTopics(99, 1, 500);
    const baseline = ragTraffic({
      seed: 21,
      traces: 240,
      startMs: now - 3 * 86_400_000,
      spreadMs: 2.9 * 86_400_000,
      mix: { knowledge_gap: 0.03, retrieval_miss: 0.02, ungrounded: 0.05, refusal: 0.02 },
      pipeline: 'kb-bot',
    });
    const incident = ragTraffic({
      seed: 22,
      traces: 60,
      startMs: now - 55 * 60_000,
      spreadMs: 50 * 60_000,
      mix: { ok: 0.5, knowledge_gap: 0.5, retrieval_miss: 0, ungrounded: 0, refusal: 0 },
      gapTopics: [newTopic!],
      pipeline: 'kb-bot',
    });
    const all: LabelledTrace[] = [...baseline, ...incident];
    await send(all.flatMap((t) => t.spans));
    await waitForTraces([incident[incident.length - 1]!.traceId], 3);
    // History from before the scheduler ran: backfilled once, as a user would with `llmwatch rag --from`.
    await api('/api/rag/diagnose', {
      method: 'POST',
      body: JSON.stringify({ from: now - 4 * 86_400_000, to: now - HOUR }),
    });
    const { detections } = await api<{
      detections: Array<{
        kind: string;
        message: string;
        evidence: { pipeline: string; overRepresentedTerms: Array<{ term: string }> };
      }>;
    }>('/api/detect', { method: 'POST', body: JSON.stringify({ from: now - HOUR, to: now, dryRun: true }) });
    const gaps = detections.filter((d) => d.kind === 'knowledge_gap' && d.evidence.pipeline === 'kb-bot');
    expect(gaps, JSON.stringify(detections.map((d) => d.message))).toHaveLength(1);
    const terms = gaps[0]!.evidence.overRepresentedTerms.map((t) => t.term);
    expect(terms.length).toBeGreaterThan(0);
    for (const term of terms.slice(0, 3)) expect(newTopic!.terms.some((t) => t.startsWith(term))).toBe(true);
  });
});

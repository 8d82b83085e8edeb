import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouse, queryRows } from '@llmwatch/collector';
import type { FakeServer } from '@llmwatch/fake-llm';
import { flush, init, shutdown, withContext } from '@llmwatch/sdk';
import { startE2eCollector, waitForCalls, type E2eCollector } from './helpers/collector.js';
import { startWrappedOpenAI, streamedText } from './helpers/fake-openai.js';

/**
 * The spine: the official openai client, wrapped by our SDK, calls a local fake provider; the span
 * travels over the real OTLP/HTTP exporter to the real collector and embedded ClickHouse, and
 * /api/calls returns it with exact tokens, model, latency and cost.
 */
describe('spine: SDK → OTLP → collector → embedded ClickHouse → /api/calls', () => {
  let e2e: E2eCollector;
  let fake: FakeServer;
  let openai: OpenAI;

  beforeAll(async () => {
    e2e = await startE2eCollector('spine');
    init({
      endpoint: e2e.collector.url,
      serviceName: 'spine-app',
      capture: 'full',
      scheduledDelayMillis: 20,
    });
    ({ fake, client: openai } = await startWrappedOpenAI());
  });

  afterAll(async () => {
    await shutdown();
    await fake?.close();
    await e2e?.close();
  });

  it('stores a non-streaming chat call with exact tokens, model, cost, latency and context', async () => {
    fake.script({
      model: 'gpt-4o-mini-2024-07-18',
      content: 'Paris is the capital of France.',
      usage: { inputTokens: 1200, outputTokens: 300, cacheReadTokens: 1000 },
      ttftMs: 120,
    });
    const completion = await withContext(
      { userId: 'user-7', sessionId: 'sess-1', promptName: 'capital-qa', promptVersion: '3' },
      () =>
        openai.chat.completions.create({
          model: 'gpt-4o-mini',
          messages: [{ role: 'user', content: 'What is the capital of France?' }],
        }),
    );
    expect(completion.choices[0]?.message.content).toBe('Paris is the capital of France.');
    await flush();

    const [call] = await waitForCalls(e2e.collector.url, 1, '&promptName=capital-qa');
    expect(call).toMatchObject({
      service: 'spine-app',
      provider: 'openai',
      operation: 'chat',
      requestModel: 'gpt-4o-mini',
      responseModel: 'gpt-4o-mini-2024-07-18',
      model: 'gpt-4o-mini-2024-07-18',
      inputTokens: 1200,
      outputTokens: 300,
      cacheReadTokens: 1000,
      streaming: false,
      ttftMs: null,
      status: 'ok',
      errorType: '',
      finishReasons: ['stop'],
      promptName: 'capital-qa',
      promptVersion: '3',
      userId: 'user-7',
      sessionId: 'sess-1',
    });
    // gpt-4o-mini: 200 uncached × $0.15/M + 1000 cached × $0.075/M + 300 × $0.60/M = $0.000285
    expect(call?.costUsd).toBeCloseTo(0.000285, 12);
    // The fake waited 120 ms before answering: the span covers at least that.
    expect(call?.latencyMs).toBeGreaterThanOrEqual(120);
    expect(call?.latencyMs).toBeLessThan(5_000);

    // Latency is exactly the stored span's duration (same span in otel_traces).
    const reader = await openClickHouse({ mode: 'embedded', dataDir: e2e.dataDir }, 'query');
    try {
      const [span] = await queryRows<{ durationNs: string; name: string; kind: string; keys: string[] }>(
        reader,
        `SELECT toString(Duration) AS durationNs, SpanName AS name, SpanKind AS kind,
           arraySort(mapKeys(SpanAttributes)) AS keys FROM otel_traces
         WHERE TraceId = {t:String} AND SpanId = {s:String}`,
        { t: call?.traceId, s: call?.spanId },
      );
      expect(span).toMatchObject({ name: 'chat gpt-4o-mini', kind: 'Client' });
      expect(call?.latencyMs).toBeCloseTo(Number(span?.durationNs) / 1e6, 6);
      // The messages are stored once, in the call row; the span row keeps the other attributes.
      expect(span?.keys).toContain('gen_ai.request.model');
      expect(span?.keys).not.toContain('gen_ai.input.messages');
      expect(span?.keys).not.toContain('gen_ai.output.messages');
    } finally {
      await reader.close();
    }
    // ...and the trace view shows them with the span's attributes.
    const trace = (await (await fetch(`${e2e.collector.url}/api/traces/${call?.traceId}`)).json()) as {
      spans: { spanId: string; attributes: Record<string, string> }[];
    };
    const shown = trace.spans.find((s) => s.spanId === call?.spanId)?.attributes ?? {};
    expect(JSON.parse(shown['gen_ai.input.messages'] ?? '[]')).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] },
    ]);
    expect(shown['gen_ai.output.messages']).toContain('Paris is the capital of France.');
    expect(shown['gen_ai.request.model']).toBe('gpt-4o-mini');
  });

  it('stores a streaming call with usage and time to first token', async () => {
    fake.script({
      content: 'one two three four five',
      usage: { inputTokens: 40, outputTokens: 12 },
      ttftMs: 80,
      delayMs: 10,
    });
    const stream = await withContext({ promptName: 'stream-qa', promptVersion: '1' }, () =>
      openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'count to five' }],
        stream: true,
        stream_options: { include_usage: true },
      }),
    );
    expect(await streamedText(stream)).toBe('one two three four five');
    await flush();

    const [call] = await waitForCalls(e2e.collector.url, 1, '&promptName=stream-qa');
    expect(call).toMatchObject({
      model: 'gpt-4o',
      inputTokens: 40,
      outputTokens: 12,
      streaming: true,
      status: 'ok',
    });
    // gpt-4o: 40 × $2.50/M + 12 × $10/M = $0.00022
    expect(call?.costUsd).toBeCloseTo(0.00022, 12);
    expect(call?.ttftMs).toBeGreaterThanOrEqual(80);
    expect(call?.ttftMs).toBeLessThan(call?.latencyMs ?? 0);
  });

  it('records a provider error with its class name and leaves the caller its error', async () => {
    fake.script({ error: { status: 500, message: 'upstream exploded' } });
    await expect(
      withContext({ promptName: 'error-qa' }, () =>
        openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      ),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await flush();
    const [call] = await waitForCalls(e2e.collector.url, 1, '&promptName=error-qa');
    expect(call).toMatchObject({ status: 'error', errorType: 'InternalServerError', model: 'gpt-4o' });
  });
});

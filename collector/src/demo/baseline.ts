import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { GENAI, GENERAL, LLMWATCH, seededRandom } from '@llmwatch/core';
import { DAY_MS, normalCall, type CallPlan } from './scenario.js';

/**
 * Yesterday's and earlier traffic, so the detectors have a baseline: spans with explicit start
 * times exported through the OpenTelemetry OTLP/protobuf exporter to the collector (the real
 * ingest path), with the attributes the SDK sets on a live call.
 */
export interface BaselineOptions {
  collectorUrl: string;
  apiKey?: string;
  /** Detection window the baseline is shaped for, epoch ms. */
  window: { fromMs: number; toMs: number };
  /** Previous days with traffic in the same window. @default 3 */
  days?: number;
  /** Calls per day inside the window's same-time copy: enough that each model clears the seasonal baselines' minimum samples (latency: 100 over 3 days). @default 150 */
  callsPerDayWindow?: number;
  /**
   * Calls in the hours just before the window: the recent baseline latency, error-rate and drift
   * compare against (latency needs 200 per model). @default 700
   */
  recentCalls?: number;
  /** @default 4 */
  recentHours?: number;
  /** Normal traffic inside the current window before the live part starts. @default 60 */
  currentCalls?: number;
  seed?: number;
  /** Added to every duration: the client/HTTP overhead live calls have on this machine. @default 0 */
  overheadMs?: number;
  onProgress?: (sent: number, total: number) => void;
}

export function llmAttributes(call: CallPlan, capture: boolean): Attributes {
  const a: Attributes = {
    [GENAI.operationName]: 'chat',
    [GENAI.providerName]: call.model.provider,
    [GENAI.requestModel]: call.model.model,
    [GENAI.responseModel]: call.model.model,
    [GENAI.requestStream]: call.stream,
    [GENAI.usageInputTokens]: call.inputTokens,
    [GENAI.usageOutputTokens]: call.outputTokens,
    [GENAI.responseFinishReasons]: [call.model.provider === 'anthropic' ? 'end_turn' : 'stop'],
    [GENAI.promptName]: call.prompt.name,
    [LLMWATCH.promptVersion]: call.prompt.version,
    [GENERAL.userId]: call.userId,
    [GENERAL.sessionId]: call.sessionId,
  };
  if (call.stream) a[GENAI.responseTimeToFirstChunk] = (call.latencyMs * 0.35) / 1000;
  if (capture) {
    a[GENAI.systemInstructions] = JSON.stringify([{ type: 'text', content: call.prompt.system }]);
    a[GENAI.inputMessages] = JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: call.question }] },
    ]);
    a[GENAI.outputMessages] = JSON.stringify([
      { role: 'assistant', parts: [{ type: 'text', content: call.answer }], finish_reason: 'stop' },
    ]);
  }
  return a;
}

/** Sends the backdated baseline; resolves when the collector acknowledged every span. */
export async function sendBaseline(options: BaselineOptions): Promise<number> {
  const rand = seededRandom(options.seed ?? 7);
  const days = options.days ?? 3;
  const perWindow = options.callsPerDayWindow ?? 150;
  const recent = options.recentCalls ?? 700;
  const recentMs = (options.recentHours ?? 4) * 3_600_000;
  const current = options.currentCalls ?? 60;
  const { fromMs, toMs } = options.window;
  const len = toMs - fromMs;

  // Start times: the same window on previous days (the seasonal cost baseline), the hours just
  // before the window (the recent baseline), and the part of today's window before the live traffic.
  const starts: number[] = [];
  for (let d = 1; d <= days; d++) {
    for (let i = 0; i < perWindow; i++) starts.push(fromMs - d * DAY_MS + rand() * len * 0.9);
  }
  // (ending 5 minutes before the window, so a report of the window holds only today's traffic)
  for (let i = 0; i < recent; i++) starts.push(fromMs - 300_000 - recentMs + rand() * recentMs);
  const now = Date.now();
  for (let i = 0; i < current; i++) starts.push(fromMs + rand() * Math.max(0, now - 5_000 - fromMs));

  const providers = new Map<string, BasicTracerProvider>();
  const exporterFor = () =>
    new OTLPTraceExporter({
      url: `${options.collectorUrl.replace(/\/$/, '')}/v1/traces`,
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      timeoutMillis: 30_000,
    });
  const providerFor = (service: string): BasicTracerProvider => {
    let p = providers.get(service);
    if (!p) {
      p = new BasicTracerProvider({
        resource: resourceFromAttributes({
          [GENERAL.serviceName]: service,
          'deployment.environment.name': 'demo',
        }),
        spanProcessors: [
          new BatchSpanProcessor(exporterFor(), {
            maxQueueSize: 20_000,
            maxExportBatchSize: 1_000,
            scheduledDelayMillis: 200,
          }),
        ],
      });
      providers.set(service, p);
    }
    return p;
  };

  let sent = 0;
  for (const start of starts) {
    const call = normalCall(rand);
    const tracer = providerFor(call.service).getTracer('@llmwatch/demo', '0.1.0');
    const root = tracer.startSpan(`POST /${call.prompt.name}`, {
      kind: SpanKind.SERVER,
      startTime: start - 3,
      attributes: { 'http.request.method': 'POST', 'http.route': `/${call.prompt.name}` },
    });
    const span = tracer.startSpan(
      `chat ${call.model.model}`,
      { kind: SpanKind.CLIENT, startTime: start, attributes: llmAttributes(call, true) },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    // A little background noise of transient errors, as in any production day.
    if (rand() < 0.01) {
      span.setAttribute(GENERAL.errorType, 'InternalServerError');
      span.setStatus({ code: SpanStatusCode.ERROR, message: '500 upstream error' });
    }
    const duration = call.latencyMs + (options.overheadMs ?? 0);
    span.end(start + duration);
    root.end(start + duration + 4);
    sent++;
    if (sent % 200 === 0) options.onProgress?.(sent, starts.length);
  }
  for (const p of providers.values()) await p.forceFlush();
  await Promise.all([...providers.values()].map((p) => p.shutdown()));
  options.onProgress?.(sent, starts.length);
  return sent;
}

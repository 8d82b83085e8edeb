import { SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { CallSpec } from './traffic.js';

function hr(ms: number): HrTime {
  // Epoch HrTime: a plain number before the process's time origin would be read as performance time.
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

/**
 * Sends calls as real GenAI spans through the official OTel SDK and OTLP/HTTP protobuf exporter,
 * one tracer provider per service (service.name is a resource attribute), with explicit
 * backdated start and end times. Returns the trace id of every call, in order.
 */
export async function sendCalls(collectorUrl: string, calls: readonly CallSpec[]): Promise<string[]> {
  const providers = new Map<string, BasicTracerProvider>();
  const tracerOf = (service: string) => {
    let p = providers.get(service);
    if (!p) {
      p = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [
          new BatchSpanProcessor(
            new OTLPTraceExporter({ url: `${collectorUrl}/v1/traces`, timeoutMillis: 30_000 }),
            {
              maxQueueSize: 200_000,
              maxExportBatchSize: 2_000,
              scheduledDelayMillis: 50,
            },
          ),
        ],
      });
      providers.set(service, p);
    }
    return p.getTracer('llmwatch-scenarios');
  };
  const traceIds: string[] = [];
  for (const c of calls) {
    const output = c.toolCall
      ? [
          {
            role: 'assistant',
            parts: [
              { type: 'tool_call', id: 'call_1', name: c.toolCall, arguments: { q: c.input.slice(0, 20) } },
            ],
            finish_reason: c.finishReason,
          },
        ]
      : [{ role: 'assistant', parts: [{ type: 'text', content: c.output }], finish_reason: c.finishReason }];
    const span = tracerOf(c.service).startSpan(`chat ${c.model}`, {
      kind: SpanKind.CLIENT,
      startTime: hr(c.startMs),
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': c.provider,
        'gen_ai.request.model': c.model,
        'gen_ai.response.model': c.model,
        'gen_ai.usage.input_tokens': c.inputTokens,
        'gen_ai.usage.output_tokens': c.outputTokens,
        'gen_ai.prompt.name': c.promptName,
        'llmwatch.prompt.version': c.promptVersion,
        'user.id': c.userId,
        'gen_ai.input.messages': JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: c.input }] },
        ]),
        ...(c.errorType
          ? { 'error.type': c.errorType }
          : { 'gen_ai.output.messages': JSON.stringify(output) }),
        ...(c.finishReason ? { 'gen_ai.response.finish_reasons': [c.finishReason] } : {}),
        ...(c.ttftMs !== null
          ? { 'gen_ai.request.stream': true, 'gen_ai.response.time_to_first_chunk': c.ttftMs / 1000 }
          : {}),
      },
    });
    if (c.errorType) span.setStatus({ code: SpanStatusCode.ERROR, message: c.errorType });
    traceIds.push(span.spanContext().traceId);
    span.end(hr(c.startMs + c.latencyMs));
  }
  for (const p of providers.values()) await p.forceFlush();
  for (const p of providers.values()) await p.shutdown();
  return traceIds;
}

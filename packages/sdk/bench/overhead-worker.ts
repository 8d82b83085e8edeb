/**
 * One variant of the SDK overhead benchmark, in its own process (spawned by bench/sdk-overhead.ts;
 * it lives here so its imports resolve through @llmwatch/sdk's dev dependencies).
 *
 *   node --conditions=@llmwatch/source --import tsx packages/sdk/bench/overhead-worker.ts <variant> <fakeUrl> <calls> <warmup>
 *
 * Prints one JSON line: per mode, CPU µs per call, latency percentiles and what was recorded.
 */
import { SpanKind, context, trace } from '@opentelemetry/api';
import type { Attributes, Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import * as openaiModule from 'openai';
import OpenAI from 'openai';
import { init, wrapOpenAI } from '../src/index.js';

export type Variant =
  'none' | 'floor' | 'llmwatch' | 'llmwatch-redacted' | 'openllmetry' | 'openinference' | 'langfuse';
export type Mode = 'nonstream' | 'stream';
export interface ModeResult {
  cpuUsPerCall: number;
  medianMs: number;
  p99Ms: number;
  spansPerCall: number;
  usageRecorded: boolean;
}
export interface WorkerResult {
  variant: Variant;
  modes: Record<Mode, ModeResult>;
  /** The call returned the provider's APIPromise (`withResponse()` available). */
  keepsApiPromise: boolean;
}

/** Token counts the fake server reports (see bench/sdk-overhead.ts); recorded if some span carries both. */
export const BENCH_USAGE = { inputTokens: 57, outputTokens: 23 };

export type Transport = 'loopback' | 'inprocess';
const [variant, baseURL, callsArg, warmupArg, transportArg] = process.argv.slice(2) as [
  Variant,
  string,
  string,
  string,
  Transport?,
];
const calls = Number(callsArg);
const warmup = Number(warmupArg);
const transport: Transport = transportArg ?? 'loopback';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new InMemorySpanExporter();
const processor = new SimpleSpanProcessor({ exporter });
const provider = new TracerProvider({ spanProcessors: [processor] });
const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
  {
    role: 'system',
    content: 'You are a helpful assistant for an online bookstore. Answer in two sentences.',
  },
  { role: 'user', content: 'Can you recommend a short science-fiction novel for a long train ride?' },
];
const request = { model: 'gpt-4o-mini', messages, temperature: 0.2, max_tokens: 200 };

/**
 * `inprocess`: the client's `fetch` answers with bodies recorded once from the fake server, so
 * no socket, server or kernel time is in the measurement: the per-call CPU is the client's own
 * work plus the instrumentation's, and the instrumentation's share is resolvable to a few µs.
 */
async function cannedFetch(): Promise<typeof fetch> {
  const post = async (body: unknown) =>
    (
      await fetch(`${baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).text();
  const json = await post(request);
  const sse = await post({ ...request, stream: true, stream_options: { include_usage: true } });
  return (async (_url: unknown, init?: { body?: unknown }) => {
    const streaming = typeof init?.body === 'string' && init.body.includes('"stream":true');
    return new Response(streaming ? sse : json, {
      status: 200,
      headers: {
        'content-type': streaming ? 'text/event-stream' : 'application/json',
        'x-request-id': 'req_canned',
      },
    });
  }) as typeof fetch;
}
const options = {
  baseURL,
  apiKey: 'bench',
  maxRetries: 0,
  ...(transport === 'inprocess' && { fetch: await cannedFetch() }),
};

/**
 * The floor: what a careful engineer writes by hand — one span per call with the same attributes
 * llmwatch records (GenAI names, request params, usage incl. cache/reasoning, TTFT, content as
 * GenAI messages JSON), in the most direct code. Not safe (returns a plain Promise, replaces the
 * stream with a generator, no error isolation), only minimal.
 */
type Msg = { role: string; content?: unknown };
type Usage = {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
};
type Choice = {
  finish_reason: string | null;
  message?: { content?: string | null };
  delta?: { content?: string | null };
};
type Completion = {
  id: string;
  model: string;
  choices: Choice[];
  usage?: Usage | null;
  system_fingerprint?: string;
  service_tier?: string;
};

function floorWrap(client: OpenAI, tracer: Tracer): OpenAI {
  const completions = client.chat.completions;
  const original = completions.create.bind(completions) as unknown as (
    p: Record<string, unknown>,
  ) => Promise<unknown>;
  (completions as unknown as { create: unknown }).create = (params: Record<string, unknown>) => {
    const msgs = params.messages as Msg[];
    const attributes: Attributes = {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': params.model as string,
      'gen_ai.request.stream': params.stream === true,
      'server.address': '127.0.0.1',
      'server.port': 4318,
      'gen_ai.system_instructions': JSON.stringify(
        msgs.filter((m) => m.role === 'system').map((m) => ({ type: 'text', content: m.content })),
      ),
      'gen_ai.input.messages': JSON.stringify(
        msgs
          .filter((m) => m.role !== 'system')
          .map((m) => ({ role: m.role, parts: [{ type: 'text', content: m.content }] })),
      ),
    };
    if (params.temperature !== undefined)
      attributes['gen_ai.request.temperature'] = params.temperature as number;
    if (params.max_tokens !== undefined)
      attributes['gen_ai.request.max_tokens'] = params.max_tokens as number;
    const span = tracer.startSpan(`chat ${String(params.model)}`, { kind: SpanKind.CLIENT, attributes });
    const t0 = performance.now();
    const record = (r: Completion, text: string, finish: string[]) => {
      span.setAttribute('gen_ai.response.id', r.id);
      span.setAttribute('gen_ai.response.model', r.model);
      if (r.system_fingerprint)
        span.setAttribute('gen_ai.openai.response.system_fingerprint', r.system_fingerprint);
      if (r.service_tier) span.setAttribute('gen_ai.openai.response.service_tier', r.service_tier);
      span.setAttribute('gen_ai.response.finish_reasons', finish);
      if (r.usage) {
        span.setAttribute('gen_ai.usage.input_tokens', r.usage.prompt_tokens);
        span.setAttribute('gen_ai.usage.output_tokens', r.usage.completion_tokens);
        const cached = r.usage.prompt_tokens_details?.cached_tokens;
        const reasoning = r.usage.completion_tokens_details?.reasoning_tokens;
        if (cached) span.setAttribute('gen_ai.usage.cache_read.input_tokens', cached);
        if (reasoning) span.setAttribute('gen_ai.usage.reasoning.output_tokens', reasoning);
      }
      span.setAttribute(
        'gen_ai.output.messages',
        JSON.stringify([
          { role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: finish[0] },
        ]),
      );
      span.end();
    };
    return context.with(trace.setSpan(context.active(), span), () =>
      original(params).then(
        (res) => {
          if (!params.stream) {
            const r = res as Completion;
            record(
              r,
              r.choices[0]?.message?.content ?? '',
              r.choices.map((c) => c.finish_reason ?? ''),
            );
            return res;
          }
          return (async function* () {
            let text = '';
            let finish = '';
            let last: Completion | undefined;
            for await (const chunk of res as AsyncIterable<Completion>) {
              if (!last)
                span.setAttribute('gen_ai.response.time_to_first_chunk', (performance.now() - t0) / 1000);
              last = chunk;
              text += chunk.choices[0]?.delta?.content ?? '';
              finish = chunk.choices[0]?.finish_reason ?? finish;
              yield chunk;
            }
            if (last) record(last, text, [finish]);
            else span.end();
          })();
        },
        (error: unknown) => {
          span.setAttribute('error.type', (error as Error).constructor.name);
          span.end();
          throw error;
        },
      ),
    );
  };
  return client;
}

async function setup(): Promise<OpenAI> {
  switch (variant) {
    case 'none':
      return new OpenAI(options);
    case 'floor':
      return floorWrap(new OpenAI(options), provider.getTracer('floor'));
    case 'llmwatch':
    case 'llmwatch-redacted':
      init({ spanProcessor: processor, capture: variant === 'llmwatch' ? 'full' : 'redacted' });
      return wrapOpenAI(new OpenAI(options));
    case 'openllmetry': {
      const { OpenAIInstrumentation } = await import('@traceloop/instrumentation-openai');
      const inst = new OpenAIInstrumentation();
      inst.setTracerProvider(provider);
      inst.manuallyInstrument(OpenAI);
      return new OpenAI(options);
    }
    case 'openinference': {
      const { OpenAIInstrumentation } = await import('@arizeai/openinference-instrumentation-openai');
      const inst = new OpenAIInstrumentation({ tracerProvider: provider });
      inst.manuallyInstrument(openaiModule as unknown as Parameters<typeof inst.manuallyInstrument>[0]);
      return new OpenAI(options);
    }
    case 'langfuse': {
      const { setLangfuseTracerProvider } = await import('@langfuse/tracing');
      const { observeOpenAI } = await import('@langfuse/openai');
      setLangfuseTracerProvider(provider);
      return observeOpenAI(new OpenAI(options));
    }
  }
  throw new Error(`unknown variant ${String(variant)}`);
}

async function call(client: OpenAI, mode: Mode): Promise<void> {
  if (mode === 'nonstream') {
    await client.chat.completions.create(request);
    return;
  }
  const stream = await client.chat.completions.create({
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _ of stream);
}

function usageRecorded(): boolean {
  const values = (attrs: Attributes, key: RegExp) =>
    Object.entries(attrs)
      .filter(([k]) => key.test(k))
      .map(([, v]) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return exporter.getFinishedSpans().some((s) => {
    const input = values(s.attributes, /input|prompt|usage/i).some(
      (v) => v === String(BENCH_USAGE.inputTokens) || v.includes(`:${BENCH_USAGE.inputTokens}`),
    );
    const output = values(s.attributes, /output|completion|usage/i).some(
      (v) => v === String(BENCH_USAGE.outputTokens) || v.includes(`:${BENCH_USAGE.outputTokens}`),
    );
    return input && output;
  });
}

const settle = () => new Promise((r) => setTimeout(r, 20));

async function measure(client: OpenAI, mode: Mode): Promise<ModeResult> {
  for (let i = 0; i < warmup; i++) await call(client, mode);
  await settle();
  exporter.reset();
  const lat = new Float64Array(calls);
  let spans = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await call(client, mode);
    lat[i] = performance.now() - t0;
    if (i % 100 === 99) {
      spans += exporter.getFinishedSpans().length;
      exporter.reset();
    }
  }
  const cpu = process.cpuUsage(cpu0);
  await settle();
  spans += exporter.getFinishedSpans().length;
  exporter.reset();
  await call(client, mode);
  await settle();
  const recorded = usageRecorded();
  lat.sort();
  return {
    cpuUsPerCall: (cpu.user + cpu.system) / calls,
    medianMs: lat[Math.floor(calls / 2)]!,
    p99Ms: lat[Math.min(calls - 1, Math.floor(calls * 0.99))]!,
    spansPerCall: spans / calls,
    usageRecorded: recorded,
  };
}

const client = await setup();
const probe = client.chat.completions.create({ model: 'gpt-4o-mini', messages });
const keepsApiPromise = typeof (probe as { withResponse?: unknown }).withResponse === 'function';
await probe;
const modes = { nonstream: await measure(client, 'nonstream'), stream: await measure(client, 'stream') };
const result: WorkerResult = { variant, modes, keepsApiPromise };
process.stdout.write(JSON.stringify(result) + '\n');
process.exit(0);

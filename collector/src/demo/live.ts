import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { FAKE_REPLY_HEADER, type FakeReply, type FakeServer } from '@llmwatch/fake-llm';
import { withContext, wrapAnthropic, wrapOpenAI } from '@llmwatch/sdk';
import { INCIDENTS, MODELS, PROMPTS, between, normalCall, type CallPlan } from './scenario.js';
import { seededRandom } from '@llmwatch/core';

/**
 * The live part of the demo: real calls through the llmwatch SDK wrapping the official OpenAI and
 * Anthropic clients, against local fake providers that answer with the latency, usage, errors and
 * content each call is scripted to have (via the fake's per-request reply header).
 */
export interface LiveCall {
  plan: CallPlan;
  reply: FakeReply;
  incident?: keyof typeof INCIDENTS;
}

export interface LiveResult {
  calls: number;
  errors: number;
  byIncident: Record<string, number>;
}

export function planLiveTraffic(seed: number, normalCalls = 70): LiveCall[] {
  const rand = seededRandom(seed);
  const calls: LiveCall[] = [];
  const normalReply = (plan: CallPlan): FakeReply => ({
    content: plan.answer,
    usage: { inputTokens: plan.inputTokens, outputTokens: plan.outputTokens },
    ...(plan.stream ? { ttftMs: plan.latencyMs * 0.35, delayMs: 5 } : { ttftMs: plan.latencyMs }),
  });
  const model = (name: string) => MODELS.find((m) => m.model === name)!;

  for (let i = 0; i < normalCalls; i++) {
    const plan = normalCall(rand);
    // The incident groups get their own calls below; keep the normal mix on the other models.
    calls.push({ plan, reply: normalReply(plan) });
  }

  const runaway = INCIDENTS.runawayUser;
  const answer = PROMPTS.find((p) => p.name === 'answer')!;
  for (let i = 0; i < runaway.calls; i++) {
    const plan: CallPlan = {
      ...normalCall(rand),
      service: 'support-bot',
      model: model(runaway.model),
      prompt: answer,
      userId: runaway.userId,
      sessionId: 'sess-runaway',
      stream: false,
    };
    plan.outputTokens = runaway.outputTokens + Math.floor(rand() * 500);
    calls.push({
      plan,
      reply: { ...normalReply(plan), content: `${plan.answer} `.repeat(40) },
      incident: 'runawayUser',
    });
  }

  const slow = INCIDENTS.slowModel;
  for (let i = 0; i < slow.calls; i++) {
    const plan: CallPlan = { ...normalCall(rand), model: model(slow.model) };
    plan.latencyMs = between(rand, slow.latencyMs);
    calls.push({ plan, reply: normalReply(plan), incident: 'slowModel' });
  }

  const limits = INCIDENTS.rateLimits;
  for (let i = 0; i < limits.calls; i++) {
    const plan: CallPlan = { ...normalCall(rand), model: model(limits.model) };
    const fail = i < Math.round(limits.calls * limits.errorShare);
    calls.push({
      plan,
      reply: fail
        ? {
            error: { status: 429, message: 'Rate limit reached for requests', retryAfterSeconds: 1 },
            ttftMs: 30,
          }
        : normalReply(plan),
      incident: 'rateLimits',
    });
  }

  const pii = INCIDENTS.piiLeak;
  for (let i = 0; i < pii.calls; i++) {
    const plan: CallPlan = { ...normalCall(rand), prompt: answer, service: 'support-bot', stream: false };
    const leaks = i >= pii.inputs.length;
    if (!leaks) plan.question = pii.inputs[i]!;
    plan.answer = leaks ? pii.leakedAnswer : plan.answer;
    calls.push({ plan, reply: normalReply(plan), incident: 'piiLeak' });
  }

  // Interleave everything, as concurrent users would.
  for (let i = calls.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [calls[i], calls[j]] = [calls[j]!, calls[i]!];
  }
  return calls;
}

export interface LiveOptions {
  openaiServer: FakeServer;
  anthropicServer: FakeServer;
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * What a call costs on this machine on top of the provider's own latency (client, HTTP, SDK),
 * measured with unwrapped clients (nothing is recorded). The backdated baseline adds it to its
 * durations, so a busy laptop does not look like a latency regression of every model.
 */
export async function measureOverheadMs(
  openaiServer: FakeServer,
  anthropicServer: FakeServer,
  concurrency = 12,
): Promise<number> {
  const openai = new OpenAI({ baseURL: openaiServer.url, apiKey: 'sk-demo-fake', maxRetries: 0 });
  const anthropic = new Anthropic({
    baseURL: anthropicServer.url,
    apiKey: 'sk-ant-demo-fake',
    maxRetries: 0,
  });
  const headers = { [FAKE_REPLY_HEADER]: JSON.stringify({ content: 'ok', ttftMs: 0 } satisfies FakeReply) };
  const samples: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      for (let k = 0; k < 3; k++) {
        const t0 = performance.now();
        if (i % 2)
          await openai.chat.completions.create(
            { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'ping' }] },
            { headers },
          );
        else
          await anthropic.messages.create(
            { model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'ping' }] },
            { headers },
          );
        if (k > 0) samples.push(performance.now() - t0);
      }
    }),
  );
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

export async function sendLiveTraffic(calls: LiveCall[], options: LiveOptions): Promise<LiveResult> {
  // maxRetries 0: the rate-limit incident must reach the app (and the telemetry) as errors.
  const openai = wrapOpenAI(
    new OpenAI({ baseURL: options.openaiServer.url, apiKey: 'sk-demo-fake', maxRetries: 0 }),
  );
  const anthropic = wrapAnthropic(
    new Anthropic({ baseURL: options.anthropicServer.url, apiKey: 'sk-ant-demo-fake', maxRetries: 0 }),
  );
  const result: LiveResult = { calls: 0, errors: 0, byIncident: {} };
  let next = 0;
  let done = 0;

  const one = async (call: LiveCall): Promise<void> => {
    const { plan } = call;
    const headers = { [FAKE_REPLY_HEADER]: JSON.stringify(call.reply) };
    const scope = {
      userId: plan.userId,
      sessionId: plan.sessionId,
      promptName: plan.prompt.name,
      promptVersion: plan.prompt.version,
      tags: { service: plan.service, ...(call.incident ? { scenario: call.incident } : {}) },
    };
    await withContext(scope, async () => {
      if (plan.model.provider === 'openai') {
        const messages = [
          { role: 'system' as const, content: plan.prompt.system },
          { role: 'user' as const, content: plan.question },
        ];
        if (plan.stream) {
          const stream = await openai.chat.completions.create(
            { model: plan.model.model, messages, stream: true, stream_options: { include_usage: true } },
            { headers },
          );
          for await (const _chunk of stream) void _chunk;
        } else {
          await openai.chat.completions.create({ model: plan.model.model, messages }, { headers });
        }
      } else {
        const params = {
          model: plan.model.model,
          max_tokens: 1024,
          system: plan.prompt.system,
          messages: [{ role: 'user' as const, content: plan.question }],
        };
        if (plan.stream) {
          const stream = await anthropic.messages.create({ ...params, stream: true }, { headers });
          for await (const _event of stream) void _event;
        } else {
          await anthropic.messages.create(params, { headers });
        }
      }
    });
  };

  const worker = async (): Promise<void> => {
    while (next < calls.length) {
      const call = calls[next++]!;
      try {
        await one(call);
      } catch {
        result.errors++;
      }
      result.calls++;
      if (call.incident) result.byIncident[call.incident] = (result.byIncident[call.incident] ?? 0) + 1;
      options.onProgress?.(++done, calls.length);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 12 }, worker));
  return result;
}

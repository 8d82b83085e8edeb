import { costOf, findPrice, type ModelPrice } from '@llmwatch/core';
import { LlmwatchError } from '../errors.js';
import { evaluatorVersion, outputText, questionText, type ScoreResult, type StoredCall } from './builtin.js';
import type { JudgeConfig } from './config.js';

/** Longest judge reply: it bounds the worst-case cost of a request, which the budget relies on. */
const MAX_JUDGE_TOKENS = 300;
/** Characters per token when estimating a prompt's tokens before sending it (errs high). */
const CHARS_PER_TOKEN_LOW = 3;

export type JudgeOutcome =
  | { ok: true; score: ScoreResult; costUsd: number; latencyMs: number }
  | { ok: false; error: string; costUsd: number; latencyMs: number };

export interface Judge {
  name: string;
  version: string;
  prompts: readonly string[] | undefined;
  config: JudgeConfig;
  /** Upper bound of one request's cost, USD, known before it is sent. */
  worstCaseCostUsd(call: StoredCall): number;
  judge(call: StoredCall): Promise<JudgeOutcome>;
}

/** The judge model's price: configured rates first, else the built-in price table. */
function judgePrice(config: JudgeConfig): ModelPrice {
  if (config.inputPerMTok !== undefined && config.outputPerMTok !== undefined)
    return { input: config.inputPerMTok, output: config.outputPerMTok };
  const entry = findPrice(config.model);
  if (!entry)
    throw new LlmwatchError(
      'config',
      `evaluation: judge ${config.name}: no known price for model ${config.model}; set inputPerMTok and outputPerMTok (a budget needs a price)`,
    );
  return entry;
}

function judgeApiKey(config: JudgeConfig): string {
  if (config.apiKeyEnv) {
    const key = process.env[config.apiKeyEnv];
    if (!key)
      throw new LlmwatchError('config', `evaluation: judge ${config.name}: ${config.apiKeyEnv} is not set`);
    return key;
  }
  // Self-hosted OpenAI-compatible servers usually accept any key.
  return config.apiKey ?? 'none';
}

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export function judgeMessages(config: JudgeConfig, call: StoredCall): ChatMessage[] {
  const cut = (s: string) =>
    s.length > config.maxContentChars ? `${s.slice(0, config.maxContentChars)} […]` : s;
  const { min, max } = config.scale;
  const system = [
    'You are a strict evaluator of an AI assistant\u2019s answers.',
    config.rubric.trim(),
    `Grade the ANSWER on a scale from ${min} (worst) to ${max} (best).`,
    'Reply with only a JSON object: {"score": <number>, "reason": "<one short sentence>"}.',
  ].join('\n\n');
  const instructions = call.systemContent
    ? `INSTRUCTIONS GIVEN TO THE ASSISTANT:\n${cut(call.systemContent)}\n\n`
    : '';
  return [
    { role: 'system', content: system },
    {
      role: 'user',
      content: `${instructions}QUESTION:\n${cut(questionText(call))}\n\nANSWER:\n${cut(outputText(call))}`,
    },
  ];
}

/** The part of an OpenAI chat completion response the judge reads. */
interface ChatCompletion {
  choices?: Array<{ message?: { content?: string | null } }>;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

const FENCE = /^\s*```[A-Za-z0-9_-]*\s*\n([\s\S]*?)\n?```\s*$/;
const SCORE_FIELD = /"?score"?\s*[:=]\s*(-?\d+(?:\.\d+)?)/i;

/** The judge's score and reason from its reply, or an error naming what was wrong with it. */
export function parseJudgeReply(
  reply: string,
  scale: { min: number; max: number },
): { raw: number; reason: string } | { error: string } {
  let raw: number | undefined;
  let reason = '';
  const text = FENCE.exec(reply)?.[1] ?? reply;
  try {
    const parsed = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as {
      score?: unknown;
      reason?: unknown;
    };
    if (typeof parsed.score === 'number') raw = parsed.score;
    else if (typeof parsed.score === 'string' && parsed.score.trim() !== '') raw = Number(parsed.score);
    if (typeof parsed.reason === 'string') reason = parsed.reason;
  } catch {
    const field = SCORE_FIELD.exec(text);
    if (field) raw = Number(field[1]);
    else if (/^\s*-?\d+(?:\.\d+)?\s*$/.test(text)) raw = Number(text);
  }
  if (raw === undefined || !Number.isFinite(raw))
    return { error: `no score in reply: ${reply.slice(0, 120)}` };
  if (raw < scale.min || raw > scale.max)
    return { error: `score ${raw} outside the scale ${scale.min}..${scale.max}` };
  return { raw, reason: reason.slice(0, 1_000) };
}

export function createJudge(config: JudgeConfig): Judge {
  const price = judgePrice(config);
  const apiKey = judgeApiKey(config);
  const url = `${config.baseUrl.replace(/\/$/, '')}/chat/completions`;
  const { min, max } = config.scale;
  const usageCost = (inputTokens: number, outputTokens: number) =>
    costOf(price, { inputTokens, outputTokens, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  const promptChars = (call: StoredCall) =>
    judgeMessages(config, call).reduce((n, m) => n + m.content.length, 0);

  return {
    name: config.name,
    version: evaluatorVersion(config),
    prompts: config.prompts,
    config,
    worstCaseCostUsd: (call) =>
      usageCost(Math.ceil(promptChars(call) / CHARS_PER_TOKEN_LOW), MAX_JUDGE_TOKENS),
    async judge(call) {
      const started = performance.now();
      const worstCase = usageCost(Math.ceil(promptChars(call) / CHARS_PER_TOKEN_LOW), MAX_JUDGE_TOKENS);
      let completion: ChatCompletion;
      try {
        // One request, no retries: a retry would spend outside the budget's view, and a call
        // that is not scored now is scored by the next pass.
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({
            model: config.model,
            messages: judgeMessages(config, call),
            temperature: 0,
            max_tokens: MAX_JUDGE_TOKENS,
          }),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
        completion = JSON.parse(text) as ChatCompletion;
      } catch (error) {
        // A request that timed out may still be billed: count its worst case against the budget.
        const message = error instanceof Error ? error.message : String(error);
        const timedOut =
          error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        return {
          ok: false,
          error: timedOut ? `timed out after ${config.timeoutMs} ms` : message.slice(0, 300),
          costUsd: timedOut ? worstCase : 0,
          latencyMs: performance.now() - started,
        };
      }
      const latencyMs = performance.now() - started;
      const usage = completion.usage;
      const costUsd = usage ? usageCost(usage.prompt_tokens, usage.completion_tokens) : worstCase;
      const reply = completion.choices?.[0]?.message?.content ?? '';
      const parsed = parseJudgeReply(reply, config.scale);
      if ('error' in parsed) return { ok: false, error: parsed.error, costUsd, latencyMs };
      return {
        ok: true,
        // Stored on 0..1 whatever the scale, so margins and comparisons read the same for every judge.
        score: {
          value: (parsed.raw - min) / (max - min),
          label: `${parsed.raw}/${max}`,
          comment: parsed.reason,
        },
        costUsd,
        latencyMs,
      };
    },
  };
}

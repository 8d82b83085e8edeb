import { createHash } from 'node:crypto';
import { isRefusal, scanText } from '@llmwatch/core';
import { Ajv, type ValidateFunction } from 'ajv';
import { detectLanguage, messageText } from '../enrich/features.js';
import type { EvaluatorConfig } from './config.js';

/** The columns of a stored call that evaluators read. */
export interface StoredCall {
  traceId: string;
  spanId: string;
  /** Epoch milliseconds of the call; the score is stamped with it. */
  timeMs: number;
  promptName: string;
  model: string;
  inputContent: string;
  outputContent: string;
  systemContent: string;
  outputTokens: number;
  finishReasons: string[];
}

/** One score of one call. Built-ins score 1 when the output passes the check, 0 when it fails. */
export interface ScoreResult {
  value: number;
  label: string;
  comment: string;
}

export interface BuiltinEvaluator {
  name: string;
  version: string;
  type: Exclude<EvaluatorConfig['type'], 'judge'>;
  prompts: readonly string[] | undefined;
  /** `null`: the check does not apply to this call (e.g. no text to compare languages of). */
  evaluate(call: StoredCall): ScoreResult | null;
}

/** Bumped when a built-in's logic changes, so its scores are recomputed rather than mixed. */
const LOGIC_VERSION: Record<EvaluatorConfig['type'], string> = {
  json: '1',
  contains: '1',
  regex: '1',
  length: '1',
  refusal: '1',
  pii: '1',
  language: '1',
  judge: '1',
};

/**
 * The version stored with each score: the evaluator's logic version plus a hash of the settings
 * that change its verdicts (not its name, filters, budgets or credentials).
 */
export function evaluatorVersion(config: EvaluatorConfig): string {
  if (config.version) return config.version;
  const settings = Object.entries(config).filter(([key]) => !NOT_VERDICT_SETTINGS.has(key));
  const hash = createHash('sha256')
    .update(stableJson(Object.fromEntries(settings)))
    .digest('hex')
    .slice(0, 8);
  return `${LOGIC_VERSION[config.type]}.${hash}`;
}

/** Settings that decide which calls are scored or what a run may spend, not the scores themselves. */
const NOT_VERDICT_SETTINGS = new Set([
  'name',
  'version',
  'prompts',
  'apiKey',
  'apiKeyEnv',
  'baseUrl',
  'timeoutMs',
  'concurrency',
  'maxSpendUsd',
  'dailyBudgetUsd',
  'inputPerMTok',
  'outputPerMTok',
]);

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** The assistant's text, without tool calls. */
export function outputText(call: StoredCall): string {
  return messageText(call.outputContent);
}

/** The last user message's text (the question the output answers); all input text as a fallback. */
export function questionText(call: StoredCall): string {
  const content = call.inputContent;
  if (!content) return '';
  try {
    const messages: unknown = JSON.parse(content);
    if (Array.isArray(messages)) {
      for (let i = messages.length - 1; i >= 0; i--) {
        const m = messages[i] as { role?: unknown } | null;
        if (m && m.role === 'user') return messageText(JSON.stringify([m]));
      }
    }
  } catch {
    // Not JSON: the whole input is the question.
  }
  return messageText(content);
}

const pass = (ok: boolean, label: string, comment = ''): ScoreResult => ({
  value: ok ? 1 : 0,
  label,
  comment,
});

/** A fenced code block around the whole answer (```json … ```) is presentation, not content. */
const FENCE = /^\s*```[A-Za-z0-9_-]*\s*\n([\s\S]*?)\n?```\s*$/;

function jsonEvaluator(
  schema: Record<string, unknown> | undefined,
): (call: StoredCall) => ScoreResult | null {
  let validate: ValidateFunction | undefined;
  if (schema) {
    const ajv = new Ajv({ allErrors: false, strict: false });
    validate = ajv.compile(schema);
  }
  return (call) => {
    const text = outputText(call);
    if (!text.trim()) return pass(false, 'empty', 'no output text');
    let parsed: unknown;
    try {
      parsed = JSON.parse(FENCE.exec(text)?.[1] ?? text);
    } catch (error) {
      return pass(false, 'invalid_json', (error as Error).message.slice(0, 200));
    }
    if (!validate) return pass(true, 'valid_json');
    if (validate(parsed)) return pass(true, 'matches_schema');
    const first = validate.errors?.[0];
    return pass(false, 'schema_mismatch', `${first?.instancePath || '/'} ${first?.message ?? ''}`.trim());
  };
}

function refusalEvaluator(call: StoredCall): ScoreResult | null {
  if (call.finishReasons.includes('content_filter'))
    return pass(false, 'refused', 'finish reason content_filter');
  const text = outputText(call);
  if (!text.trim()) return null;
  return isRefusal(text) ? pass(false, 'refused') : pass(true, 'answered');
}

const REDACTION_MARK = /\[REDACTED:([a-z_]+)\]/g;

/** PII the detectors find in the output, and PII that ingest already redacted from it. */
function piiEvaluator(call: StoredCall): ScoreResult | null {
  const text = outputText(call);
  if (!text) return null;
  const types = new Set(scanText(text).map((f) => f.type as string));
  for (const m of text.matchAll(REDACTION_MARK)) types.add(m[1]!);
  return types.size ? pass(false, 'pii', [...types].sort().join(',')) : pass(true, 'clean');
}

function languageEvaluator(call: StoredCall): ScoreResult | null {
  const asked = detectLanguage(questionText(call));
  const answered = detectLanguage(outputText(call));
  if (!asked || !answered || asked === 'und' || answered === 'und') return null;
  return pass(asked === answered, `${asked}->${answered}`);
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** Builds the built-in evaluator a config entry describes (judges are built by judge.ts). */
export function builtinEvaluator(config: Exclude<EvaluatorConfig, { type: 'judge' }>): BuiltinEvaluator {
  const base = {
    name: config.name,
    type: config.type,
    prompts: config.prompts,
    version: evaluatorVersion(config),
  };
  switch (config.type) {
    case 'json':
      return { ...base, evaluate: jsonEvaluator(config.schema) };
    case 'contains': {
      const norm = (s: string) => (config.caseSensitive ? s : s.toLowerCase());
      const values = config.values.map(norm);
      return {
        ...base,
        evaluate(call) {
          const text = norm(outputText(call));
          const found = values.filter((v) => text.includes(v));
          const ok = config.mode === 'all' ? found.length === values.length : found.length > 0;
          return pass(ok, ok ? 'contains' : 'missing', `${found.length}/${values.length} found`);
        },
      };
    }
    case 'regex': {
      const re = new RegExp(config.pattern, config.flags);
      return {
        ...base,
        evaluate(call) {
          const ok = re.test(outputText(call));
          return pass(ok, ok ? 'match' : 'no_match');
        },
      };
    }
    case 'length':
      return {
        ...base,
        evaluate(call) {
          const text = outputText(call);
          const n =
            config.unit === 'tokens'
              ? Number(call.outputTokens)
              : config.unit === 'words'
                ? wordCount(text)
                : text.length;
          const ok = n >= config.min && (config.max === undefined || n <= config.max);
          return pass(ok, ok ? 'within' : n < config.min ? 'too_short' : 'too_long', `${n} ${config.unit}`);
        },
      };
    case 'refusal':
      return { ...base, evaluate: refusalEvaluator };
    case 'pii':
      return { ...base, evaluate: piiEvaluator };
    case 'language':
      return { ...base, evaluate: languageEvaluator };
  }
}

import { z } from 'zod';

/**
 * `evaluation:` in llmwatch.config.yaml: the evaluators that score stored calls, the judge
 * endpoints, and the scheduled job with its sampling rate per prompt. See docs/evaluation.md.
 */
const evaluatorName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'evaluator name: 1-64 letters, digits, _ . : -');

const common = {
  name: evaluatorName,
  /** Overrides the derived version (built-in version + hash of the settings). */
  version: z.string().min(1).max(40).optional(),
  /** Only calls of these prompt names (all when unset). */
  prompts: z.array(z.string().min(1)).optional(),
};

const jsonEvaluator = z
  .object({
    ...common,
    type: z.literal('json'),
    /** A JSON Schema the parsed output must match; without it any valid JSON passes. */
    schema: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const containsEvaluator = z
  .object({
    ...common,
    type: z.literal('contains'),
    values: z.array(z.string().min(1)).min(1),
    /** `any`: one of the values suffices; `all`: every value must occur. */
    mode: z.enum(['any', 'all']).default('any'),
    caseSensitive: z.boolean().default(false),
  })
  .strict();

const regexEvaluator = z
  .object({
    ...common,
    type: z.literal('regex'),
    pattern: z.string().min(1),
    flags: z
      .string()
      .regex(/^[imsu]*$/, 'flags: only i, m, s, u')
      .default(''),
  })
  .strict()
  .refine(
    (e) => {
      try {
        new RegExp(e.pattern, e.flags);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'pattern: not a valid regular expression', path: ['pattern'] },
  );

const lengthEvaluator = z
  .object({
    ...common,
    type: z.literal('length'),
    unit: z.enum(['chars', 'words', 'tokens']).default('chars'),
    min: z.number().int().min(0).default(0),
    max: z.number().int().positive().optional(),
  })
  .strict();

const refusalEvaluator = z.object({ ...common, type: z.literal('refusal') }).strict();
const piiEvaluator = z.object({ ...common, type: z.literal('pii') }).strict();
const languageEvaluator = z.object({ ...common, type: z.literal('language') }).strict();

export const judgeSchema = z
  .object({
    ...common,
    type: z.literal('judge'),
    /** Base URL of any OpenAI-compatible chat completions API, e.g. https://api.openai.com/v1. */
    baseUrl: z.url(),
    model: z.string().min(1),
    /** API key, or the name of an environment variable holding it (preferred). */
    apiKey: z.string().optional(),
    apiKeyEnv: z.string().optional(),
    /** What the judge grades and how; the scale and output format are added by llmwatch. */
    rubric: z.string().min(10),
    scale: z
      .object({ min: z.number().default(1), max: z.number().default(5) })
      .strict()
      .prefault({})
      .refine((s) => s.max > s.min, 'scale: max must be above min'),
    /** Per judge request. */
    timeoutMs: z.number().int().min(100).default(30_000),
    /** Concurrent judge requests. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** Spend limit of one run (backfill or scheduled pass), USD. */
    maxSpendUsd: z.number().positive().default(1),
    /** Spend limit per UTC day over all runs, read back from the stored scores, USD. */
    dailyBudgetUsd: z.number().positive().optional(),
    /**
     * Prices of the judge model, USD per 1M tokens, when the built-in table does not know it.
     * A judge whose cost cannot be computed does not run: a budget must be enforceable.
     */
    inputPerMTok: z.number().min(0).optional(),
    outputPerMTok: z.number().min(0).optional(),
    /** Longest question and answer text sent to the judge (characters each). */
    maxContentChars: z.number().int().min(100).default(8_000),
  })
  .strict();

export const evaluatorSchema = z.discriminatedUnion('type', [
  jsonEvaluator,
  containsEvaluator,
  regexEvaluator,
  lengthEvaluator,
  refusalEvaluator,
  piiEvaluator,
  languageEvaluator,
  judgeSchema,
]);

export const evaluationSchema = z
  .object({
    evaluators: z.array(evaluatorSchema).default([]),
    schedule: z
      .object({
        /** Score new calls in the background (the collector's scheduled job). */
        enabled: z.boolean().default(false),
        intervalSeconds: z.number().int().min(5).default(300),
        /** Calls younger than this are left for the next pass (late spans still arriving). */
        lagSeconds: z.number().int().min(0).default(60),
        /** Evaluators the job runs (all configured ones when unset). */
        evaluators: z.array(evaluatorName).optional(),
      })
      .strict()
      .prefault({}),
    sampling: z
      .object({
        /** Share of calls scored, 0..1, when the prompt has no rate of its own. */
        default: z.number().min(0).max(1).default(1),
        /** Share of calls scored per prompt name, 0..1. */
        prompts: z.record(z.string(), z.number().min(0).max(1)).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({})
  .refine((e) => new Set(e.evaluators.map((v) => v.name)).size === e.evaluators.length, {
    message: 'evaluator names must be unique',
    path: ['evaluators'],
  });

export type EvaluationConfig = z.output<typeof evaluationSchema>;
export type EvaluatorConfig = z.output<typeof evaluatorSchema>;
export type JudgeConfig = z.output<typeof judgeSchema>;
export type SamplingConfig = EvaluationConfig['sampling'];

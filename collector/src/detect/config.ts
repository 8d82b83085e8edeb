import { z } from 'zod';
import { ragSchema } from '../rag/config.js';

/**
 * `detection:` in llmwatch.config.yaml. Every threshold has a default chosen so that a daily load
 * cycle of ±50% and ordinary sampling noise never page anyone (see test/scenarios).
 */
const costSpikeSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Fewest calls in the current window for a group to be judged. */
    minCalls: z.number().int().min(1).default(20),
    /** Fewest baseline days (same hour on previous days) with traffic for the seasonal baseline. */
    minBaselineDays: z.number().int().min(1).default(2),
    /**
     * Fewer days: the recent windows before this one (as many as the history holds, up to
     * `recentBaselineHours`). No daily cycle in that baseline, so the bar is higher: cost must be
     * `minRatio` × their median and `maxFactor` × the highest of them.
     */
    recent: z
      .object({
        minRatio: z.number().min(1).default(3),
        maxFactor: z.number().min(1).default(1.5),
      })
      .strict()
      .prefault({}),
    /** Less than `minRecentHours` of history: only spend `factor` × anything seen so far (per window). */
    guard: z
      .object({
        factor: z.number().min(1).default(10),
      })
      .strict()
      .prefault({}),
    /** Observed cost must be at least this multiple of the seasonal baseline median. */
    minRatio: z.number().min(1).default(2),
    /** Robust z-score (median/MAD) the observed cost must exceed. */
    minZ: z.number().min(0).default(4),
    /** Ignore groups whose window cost is below this (USD). */
    minCostUsd: z.number().min(0).default(0.05),
    /** A user/prompt/model group must also cost at least this share of the project's baseline. */
    minShareOfProject: z.number().min(0).max(1).default(0.1),
    /**
     * A user/prompt/model/service slice with a baseline must also stand out of the count noise of
     * its own calls: the upper tail of its cost under a scaled Poisson (matching the mean and
     * spread of its calls' costs) below `sliceAlpha` / the slices judged in that dimension.
     */
    sliceAlpha: z.number().gt(0).lt(1).default(1e-4),
    singleCall: z
      .object({
        enabled: z.boolean().default(true),
        /** Fewest peer calls (same model and prompt) in the baseline. */
        minPeers: z.number().int().min(1).default(200),
        /** A call costs more than `factor` × the peers' p99 (and ≥ minCostUsd). */
        factor: z.number().min(1).default(5),
        minCostUsd: z.number().min(0).default(0.05),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const latencySchema = z
  .object({
    enabled: z.boolean().default(true),
    minSamples: z.number().int().min(5).default(20),
    minBaselineSamples: z.number().int().min(5).default(100),
    /**
     * Mann-Whitney U significance level (one-sided: current slower than baseline). Strict: every
     * model, prompt and metric is tested every window.
     */
    alpha: z.number().gt(0).lt(1).default(0.0001),
    /** p50 or p95 must rise by at least this fraction. */
    minRelativeChange: z.number().min(0).default(0.3),
  })
  .strict()
  .prefault({});

const errorRateSchema = z
  .object({
    enabled: z.boolean().default(true),
    minCalls: z.number().int().min(5).default(20),
    /** Fewest errors in the window: two or three errors are never an incident on their own. */
    minErrors: z.number().int().min(1).default(5),
    alpha: z.number().gt(0).lt(1).default(0.001),
    /** Error ratio must rise by at least this many points (0.05 = 5 points). */
    minAbsoluteIncrease: z.number().min(0).default(0.05),
    /** …and to at least this multiple of the baseline ratio. */
    minRatio: z.number().min(1).default(2),
    /**
     * A project still learning (less than `minRecentHours` of history) has no baseline: its error
     * rate alerts only past these absolute limits (a wrong key or a dead endpoint on day one).
     */
    guard: z
      .object({
        minErrors: z.number().int().min(1).default(20),
        minRatio: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

const driftSchema = z
  .object({
    enabled: z.boolean().default(true),
    minSamples: z.number().int().min(5).default(10),
    minBaselineSamples: z.number().int().min(10).default(100),
    /** False-alert rate of one project's pass, shared by its length tests (and by its mix tests). */
    alpha: z.number().gt(0).lt(1).default(0.001),
    /** Kolmogorov-Smirnov D a token-length shift must reach, whatever its p-value. */
    minKsStatistic: z.number().min(0).max(1).default(0.25),
    /** Population stability index of a categorical feature (0.25 = the usual "major shift"). */
    psiThreshold: z.number().min(0).default(0.25),
    /** Cosine distance of sketch centroids must exceed this… */
    minCosineDistance: z.number().min(0).max(2).default(0.02),
    /** …and this many times the distance seen between random baseline subsamples of the same size. */
    noiseFactor: z.number().min(1).default(4),
  })
  .strict()
  .prefault({});

const promptRegressionSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A version is "new" for this long after its first call. */
    lookbackHours: z.number().min(1).default(24),
    minSamples: z.number().int().min(5).default(30),
    minBaselineSamples: z.number().int().min(5).default(100),
    alpha: z.number().gt(0).lt(1).default(0.001),
    /** Cost, latency or output tokens must rise by at least this fraction (medians). */
    minRelativeChange: z.number().min(0).default(0.25),
    minErrorIncrease: z.number().min(0).default(0.05),
    /** Mean score drop (absolute, in the score's own unit) that counts as worse… */
    minScoreDrop: z.number().min(0).default(0.1),
    /** …with a Welch t-test at this level (scores are sparse: feedback arrives for a fraction of calls)… */
    scoreAlpha: z.number().gt(0).lt(1).default(0.01),
    /** …and at least this many scores on each side. */
    minScores: z.number().int().min(2).default(20),
  })
  .strict()
  .prefault({});

const piiTypeSchema = z.enum(['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ip_address', 'secret']);
const severitySchema = z.enum(['info', 'warning', 'critical']);

const piiLeakSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** PII in an output that was not in that call's input: the model leaked it. */
    leakTypes: z.array(piiTypeSchema).default(['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'secret']),
    /** PII sent to an external provider in an input: always an alert for these types… */
    exposureTypes: z.array(piiTypeSchema).default(['credit_card', 'us_ssn', 'iban', 'secret']),
    /** …and for these routine ones (emails, phones in user text) only when their rate jumps. */
    exposureRateTypes: z.array(piiTypeSchema).default(['email', 'phone']),
    /** Routine-type findings in the window must reach this count… */
    minRoutineFindings: z.number().int().min(1).default(5),
    /** …and this multiple of the count the recent baseline predicts for the window… */
    rateFactor: z.number().min(1).default(3),
    /** …and be this improbable under the baseline's Poisson rate. */
    alpha: z.number().gt(0).lt(1).default(0.001),
    /** An output value seen in outputs of this many baseline calls is known content, not a leak. */
    knownValueMinCalls: z.number().int().min(1).default(3),
    /** Providers that run on your own infrastructure: sending them PII is not an exposure. */
    internalProviders: z
      .array(z.string())
      .default(['ollama', 'vllm', 'tgi', 'lmstudio', 'llama.cpp', 'local']),
    severity: z.record(piiTypeSchema, severitySchema).default({
      secret: 'critical',
      credit_card: 'critical',
      us_ssn: 'critical',
      iban: 'warning',
      email: 'warning',
      phone: 'warning',
      ip_address: 'info',
    }),
  })
  .strict()
  .prefault({});

/** A rising share of RAG answers with nothing relevant retrieved (docs/rag.md). */
const knowledgeGapSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Fewest diagnosed RAG answers of a pipeline in the window. */
    minTraces: z.number().int().min(5).default(20),
    /** Fewest diagnosed answers in the baseline (the days before the window). */
    minBaselineTraces: z.number().int().min(5).default(50),
    baselineDays: z.number().min(1).max(60).default(7),
    /** Fewest knowledge gaps in the window. */
    minGaps: z.number().int().min(1).default(5),
    alpha: z.number().gt(0).lt(1).default(0.001),
    /** The gap share must rise by at least this many points… */
    minAbsoluteIncrease: z.number().min(0).default(0.1),
    /** …and to at least this multiple of the baseline share. */
    minRatio: z.number().min(1).default(2),
    /** A term is listed when at least this many of the window's gap questions mention it. */
    minTermGaps: z.number().int().min(1).default(3),
  })
  .strict()
  .prefault({});

const creepSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Whole days (ending at the window end) the daily trend is fitted over. */
    days: z.number().int().min(4).max(60).default(8),
    /** Fewest days with `minCallsPerDay` calls for a group to be judged. */
    minDays: z.number().int().min(3).default(6),
    minCallsPerDay: z.number().int().min(10).default(100),
    /** One-sided significance of the slope (day-to-day overdispersion included). */
    alpha: z.number().gt(0).lt(1).default(0.0001),
    /** Rise of the fitted line over the span: cost per call, p95 latency, output tokens… */
    minRelativeRise: z.number().min(0).default(0.05),
    /** …and for the error ratio, in points. */
    minErrorRise: z.number().min(0).default(0.02),
  })
  .strict()
  .prefault({});

export const detectionSchema = z
  .object({
    /** Run the scheduler in the collector. `llmwatch detect` works either way. */
    enabled: z.boolean().default(true),
    /** How often the scheduler evaluates. */
    intervalSeconds: z.number().int().min(5).default(60),
    /** Length of the current window each pass judges (and of the slices of a backtest). */
    windowMinutes: z.number().int().min(5).max(1440).default(60),
    /** Spans arrive late: the scheduler's window ends this long before now. */
    lagSeconds: z.number().int().min(0).default(60),
    /** How far back seasonal baselines reach (cost: the same hour on each previous day; prompt versions). */
    baselineDays: z.number().int().min(1).max(60).default(7),
    /**
     * Baseline of the distribution detectors (latency, error rate, drift): the hours just before
     * the window. A day covers a whole daily cycle and keeps a pass fast at any data size.
     */
    /**
     * Baseline of latency, error rate and drift: `seasonal` = the same window on each of the
     * previous `baselineDays` days (robust to daily cycles: slower or more rate-limited peaks,
     * different content at night); `recent` = the `recentBaselineHours` before the window.
     */
    distributionBaseline: z.enum(['seasonal', 'recent']).default('seasonal'),
    /**
     * Baselines degrade with the history a project has (docs/detection.md, "Baselines"): seasonal
     * from `minSeasonalDays` days on, the recent hours from `minRecentHours` on, before that only
     * absolute guards and a "learning" status per detector.
     */
    minSeasonalDays: z.number().min(1).max(60).default(2),
    minRecentHours: z.number().min(1).max(48).default(3),
    /**
     * The live scheduler also judges cost and error rate over the last `fastWindowMinutes`, so a
     * burst is flagged minutes after it starts instead of when the hour closes. 0 turns it off.
     */
    fastWindowMinutes: z.number().int().min(0).max(60).default(10),
    recentBaselineHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(24),
    cost_spike: costSpikeSchema,
    latency_regression: latencySchema,
    error_rate: errorRateSchema,
    drift: driftSchema,
    prompt_regression: promptRegressionSchema,
    creep: creepSchema,
    pii_leak: piiLeakSchema,
    knowledge_gap: knowledgeGapSchema,
    /** How RAG answers and chains are judged (docs/rag.md). */
    rag: ragSchema,
  })
  .strict()
  .prefault({});

export type DetectionConfig = z.output<typeof detectionSchema>;
export type PiiTypeName = z.output<typeof piiTypeSchema>;

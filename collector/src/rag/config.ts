import { z } from 'zod';
import { DEFAULT_RAG_THRESHOLDS } from './verdict.js';

/**
 * `rag:` in llmwatch.config.yaml: how RAG answers and chains are judged (docs/rag.md). The
 * knowledge-gap detector's own thresholds are under `detection.knowledge_gap`.
 */
export const ragSchema = z
  .object({
    /** A document is relevant when it holds at least this share of the question's terms. @default 0.5 */
    relevance: z.number().gt(0).max(1).default(DEFAULT_RAG_THRESHOLDS.relevance),
    /** Without document text, a retriever score at least this high counts as relevant. @default 0.5 */
    retrieverScore: z.number().default(DEFAULT_RAG_THRESHOLDS.retrieverScore),
    /** An answer is grounded when this share of what it adds is found in the context. @default 0.6 */
    groundedness: z.number().min(0).max(1).default(DEFAULT_RAG_THRESHOLDS.groundedness),
    /** How far around a trace to look for documents that would have answered it. @default 7 */
    lookbackDays: z.number().min(0).max(90).default(7),
    /** Chains: a score below this on a step or on the final answer counts as a failure. @default 0.5 */
    failScore: z.number().default(0.5),
  })
  .strict()
  .prefault({});

export type RagConfig = z.output<typeof ragSchema>;

export function diagnoseOptions(config: RagConfig): {
  thresholds: typeof DEFAULT_RAG_THRESHOLDS;
  lookbackMs: number;
} {
  return {
    thresholds: {
      relevance: config.relevance,
      retrieverScore: config.retrieverScore,
      groundedness: config.groundedness,
    },
    lookbackMs: config.lookbackDays * 86_400_000,
  };
}

import {
  contentHeldByCall,
  gpuRateFor,
  normalizeSpan,
  priceCall,
  type AttributeValue,
  type Attributes,
  type DecodedSpan,
  type LlmCall,
} from '@llmwatch/core';
import type { LlmwatchConfig } from '../config/index.js';
import { computeFeatures } from '../enrich/features.js';
import { applyPiiPolicy, applyPiiPolicyToRecord } from '../enrich/pii.js';
import {
  callRow,
  emptyRows,
  piiRow,
  traceRow,
  type CallFeatures,
  type PiiFindingRow,
  type TableRows,
} from './rows.js';

/**
 * Per decoded span, in order: normalize → price → PII policy → features → rows. Each stage is a
 * plain function so this file reads top to bottom and tests can swap one. A stage that throws on
 * one span does not fail the request: the span is still stored in otel_traces and the failure
 * counted.
 */
export interface PipelineStages {
  normalizeSpan(span: DecodedSpan, projectId: string): LlmCall | null;
  /** Returns the call with costUsd/priceVersion filled. */
  priceCall(call: LlmCall): LlmCall;
  /** Runs for non-LLM spans too: content may sit in any span. */
  applyPiiPolicy(
    call: LlmCall | null,
    span: DecodedSpan,
  ): { call: LlmCall | null; span: DecodedSpan; findings: PiiFindingRow[] };
  computeFeatures(call: LlmCall): CallFeatures;
  /** The same policy over a log record's body and attributes (GenAI events carry content). */
  applyPiiPolicyToRecord(record: { eventName: string; body: AttributeValue; attributes: Attributes }): {
    body: AttributeValue;
    attributes: Attributes;
    findings: PiiFindingRow[];
  };
}

export interface PipelineResult {
  rows: TableRows;
  llmCalls: number;
  /** Spans for which an enrichment stage threw (kept in otel_traces). */
  stageErrors: number;
}

export function runPipeline(
  spans: readonly DecodedSpan[],
  projectId: string,
  stages: PipelineStages,
): PipelineResult {
  const rows = emptyRows();
  let llmCalls = 0;
  let stageErrors = 0;
  for (const decoded of spans) {
    let span = decoded;
    let heldByCall: readonly string[] = [];
    try {
      let call = stages.normalizeSpan(span, projectId);
      if (call) call = stages.priceCall(call);
      const policed = stages.applyPiiPolicy(call, span);
      span = policed.span;
      call = policed.call;
      if (call) {
        const features = stages.computeFeatures(call);
        rows.llm_calls.push(callRow(call, features, piiSummary(policed.findings)));
        heldByCall = contentHeldByCall(call, span.attributes);
        llmCalls++;
      }
      for (const finding of policed.findings) rows.pii_findings.push(piiRow(projectId, span, call, finding));
    } catch {
      stageErrors++;
      // The raw span is still worth keeping; an enrichment bug must not lose telemetry.
      span = decoded;
      heldByCall = [];
    }
    rows.otel_traces.push(traceRow(projectId, span, heldByCall));
  }
  return { rows, llmCalls, stageErrors };
}

const NO_PII = { types: [], count: 0 };

/** A call's PII columns: the types found (sorted, once each) and the occurrences in all. */
function piiSummary(findings: readonly PiiFindingRow[]): { types: string[]; count: number } {
  if (findings.length === 0) return NO_PII;
  const types = [...new Set(findings.map((f) => f.type))].sort();
  return { types, count: findings.reduce((n, f) => n + f.count, 0) };
}

/**
 * The stages from their owners' modules: core normalize and pricing, collector enrich/pii and
 * enrich/features. `piiHashKey` keys the value hashes of PII findings (stable per install).
 */
export function defaultStages(config: LlmwatchConfig, piiHashKey: string): PipelineStages {
  const overrides = config.pricing;
  const policy = config.pii;
  return {
    normalizeSpan: (span, projectId) =>
      normalizeSpan(span, projectId, config.ingest.attributes, config.ingest.selfHosted),
    priceCall: (call) => {
      // A cost the instrumentation already computed (e.g. our SDK) is kept; otherwise priced here.
      // Without reported usage the cost is unknown, not the price of zero tokens. A configured
      // GPU-hour rate prices by GPU time, which the instrumentation cannot know and needs no usage.
      const byGpuTime = gpuRateFor(overrides, call.provider, call.model) !== null;
      if (!byGpuTime && (call.costUsd !== null || !call.usageReported)) return call;
      const price = priceCall(
        {
          provider: call.provider,
          model: call.model,
          inputTokens: call.inputTokens,
          outputTokens: call.outputTokens,
          cacheReadTokens: call.cacheReadTokens,
          cacheWriteTokens: call.cacheWriteTokens,
          reasoningTokens: call.reasoningTokens,
          latencyMs: call.latencyMs,
        },
        overrides,
      );
      return { ...call, costUsd: price.costUsd, priceVersion: price.priceVersion };
    },
    applyPiiPolicy: (call, span) => applyPiiPolicy(call, span, policy, piiHashKey),
    applyPiiPolicyToRecord: (record) => applyPiiPolicyToRecord(record, policy, piiHashKey),
    computeFeatures,
  };
}

import { describe, expect, it } from 'vitest';
import { chainReport, newcombeDifference, traceOutcome, wilson } from './chains.js';
import { buildSteps, retrievedDocuments, walk, type SpanRow } from './steps.js';
import { contentTerms, groundedness, stem } from './text.js';
import { classify, DEFAULT_RAG_THRESHOLDS, ragInputs } from './verdict.js';

function span(
  spanId: string,
  parentSpanId: string,
  startMs: number,
  durationMs: number,
  extra: Partial<SpanRow> = {},
): SpanRow {
  return {
    spanId,
    parentSpanId,
    name: spanId,
    startMs,
    durationMs,
    status: 'Unset',
    attributes: {},
    scores: [],
    ...extra,
  };
}

describe('buildSteps', () => {
  it('gives every step its share of the critical path; shares add up to the whole trace', () => {
    // root 0–100: retrieval 0–30, then two parallel LLM calls 30–60 and 30–90, then 10 ms of its own.
    const root = buildSteps([
      span('root', '', 0, 100),
      span('retrieve', 'root', 0, 30, { attributes: { 'gen_ai.operation.name': 'retrieval' } }),
      span('fast', 'root', 30, 30, { call: call('a', 'b') }),
      span('slow', 'root', 30, 60, { call: call('a', 'b') }),
    ])!;
    const by = Object.fromEntries([...walk(root)].map((s) => [s.spanId, s]));
    expect(by.retrieve!.kind).toBe('retrieval');
    expect(by.slow!.kind).toBe('llm');
    expect(by.slow!.criticalMs).toBe(60);
    expect(by.fast!.criticalMs).toBe(0);
    expect(by.retrieve!.criticalMs).toBe(30);
    expect(by.root!.criticalMs).toBe(10);
    expect([...walk(root)].reduce((a, s) => a + s.criticalShare, 0)).toBeCloseTo(1, 9);
  });

  it('keeps spans whose parent was never stored under a synthetic root instead of dropping them', () => {
    const root = buildSteps([span('a', 'missing', 0, 10), span('b', 'missing2', 5, 10)])!;
    expect(root.name).toBe('(trace)');
    expect(root.children.map((c) => c.spanId)).toEqual(['a', 'b']);
  });

  it('reads retrieved documents from the SDK JSON form and from OpenInference flattened attributes', () => {
    expect(
      retrievedDocuments({ 'gen_ai.retrieval.documents': '[{"id":"d1","score":0.8,"content":"x"}]' }),
    ).toEqual([{ id: 'd1', score: 0.8, content: 'x' }]);
    expect(
      retrievedDocuments({
        'retrieval.documents.0.document.id': 'a',
        'retrieval.documents.0.document.content': 'text a',
        'retrieval.documents.0.document.score': '0.25',
        'retrieval.documents.1.document.id': 'b',
      }),
    ).toEqual([{ id: 'a', content: 'text a', score: 0.25 }, { id: 'b' }]);
    expect(retrievedDocuments({ 'gen_ai.retrieval.documents': '[]' })).toEqual([]);
    expect(retrievedDocuments({})).toBeUndefined();
  });
});

function call(input: string, output: string): NonNullable<SpanRow['call']> {
  return {
    model: 'gpt-4o-mini',
    costUsd: 0.001,
    inputTokens: 10,
    outputTokens: 5,
    input: JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: input }] }]),
    output: JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: output }] }]),
    promptName: 'answer',
    promptVersion: '1',
  };
}

function ragTrace(
  question: string,
  docs: Array<{ id: string; content?: string; score?: number }>,
  answer: string,
) {
  const rows = [
    span('root', '', 0, 100),
    span('retrieve', 'root', 0, 20, {
      attributes: {
        'gen_ai.operation.name': 'retrieval',
        'gen_ai.retrieval.query.text': question,
        'gen_ai.retrieval.documents': JSON.stringify(docs),
      },
    }),
    span('answer', 'root', 20, 80, { call: call(question, answer) }),
  ];
  return ragInputs(buildSteps(rows)!, rows);
}

describe('classify', () => {
  const refundDoc = {
    id: 'kb-1',
    content: 'Refunds are issued within 14 days of the return reaching our warehouse.',
  };
  const shippingDoc = { id: 'kb-2', content: 'Standard shipping takes 3 to 5 business days within the EU.' };

  it('ok: relevant context and an answer it supports', () => {
    const v = classify(
      ragTrace(
        'How many days until refunds are issued?',
        [refundDoc],
        'Refunds are issued within 14 days of the return reaching the warehouse.',
      ),
      DEFAULT_RAG_THRESHOLDS,
    );
    expect(v.verdict).toBe('ok');
    expect(v.evidence.maxRelevance).toBeGreaterThanOrEqual(0.5);
  });

  it('ungrounded: relevant context, but the answer brings facts it does not hold', () => {
    const v = classify(
      ragTrace(
        'How many days until refunds are issued?',
        [refundDoc],
        'Refunds take 60 days and require a notarised letter plus original packaging photographs.',
      ),
      DEFAULT_RAG_THRESHOLDS,
    );
    expect(v.verdict).toBe('ungrounded');
    expect(v.evidence.unsupportedTerms).toContain(stem('notarised'));
  });

  it('refusal: relevant context, and the model declines', () => {
    const v = classify(
      ragTrace(
        'How many days until refunds are issued?',
        [refundDoc],
        "I'm sorry, but I can't help with that request.",
      ),
      DEFAULT_RAG_THRESHOLDS,
    );
    expect(v.verdict).toBe('refusal');
  });

  it('knowledge gap: nothing retrieved covers the question, and nothing elsewhere does', () => {
    const v = classify(
      ragTrace('Do you ship lithium batteries to Norway?', [shippingDoc], 'Yes.'),
      DEFAULT_RAG_THRESHOLDS,
      [{ id: 'kb-1', content: refundDoc.content, traceId: 't2' }],
    );
    expect(v.verdict).toBe('knowledge_gap');
    expect(v.evidence.reason).toMatch(/no stored document covers it/);
  });

  it('retrieval miss: another trace retrieved a document that covers this question', () => {
    const v = classify(
      ragTrace('How many days until refunds are issued?', [shippingDoc], 'Within a week.'),
      DEFAULT_RAG_THRESHOLDS,
      [{ id: 'kb-1', content: refundDoc.content, traceId: 't2' }],
    );
    expect(v.verdict).toBe('retrieval_miss');
    expect(v.evidence.coveredElsewhere?.[0]).toMatchObject({ id: 'kb-1', traceId: 't2' });
  });

  it('an empty retrieval is a knowledge gap; without document text, retriever scores decide relevance', () => {
    expect(classify(ragTrace('refund days?', [], 'No idea.'), DEFAULT_RAG_THRESHOLDS).verdict).toBe(
      'knowledge_gap',
    );
    expect(
      classify(ragTrace('refund days?', [{ id: 'x', score: 0.91 }], '14 days.'), DEFAULT_RAG_THRESHOLDS)
        .verdict,
    ).toBe('ok');
    expect(
      classify(ragTrace('refund days?', [{ id: 'x', score: 0.12 }], '14 days.'), DEFAULT_RAG_THRESHOLDS)
        .verdict,
    ).toBe('knowledge_gap');
  });
});

describe('text evidence', () => {
  it('folds inflections and drops function words', () => {
    expect([...contentTerms('The refunds were refunded and the refund is here')]).toEqual(['refund']);
  });
  it('an answer that only restates the question is grounded', () => {
    const q = contentTerms('warehouse returns');
    expect(groundedness(contentTerms('Warehouse returns.'), q, new Set()).score).toBe(1);
  });
});

describe('chain statistics', () => {
  it('Wilson and Newcombe intervals match the published examples (Newcombe, Stat Med 1998)', () => {
    const w = wilson(81, 263);
    expect(w.low).toBeCloseTo(0.2553, 4);
    expect(w.high).toBeCloseTo(0.3662, 4);
    const d = newcombeDifference(56, 70, 48, 80);
    expect(d.value).toBeCloseTo(0.2, 4);
    expect(d.low).toBeCloseTo(0.0524, 4);
    expect(d.high).toBeCloseTo(0.3339, 4);
  });

  it('names the step whose failures drive final failures, and shows compounding', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const outcomes = Array.from({ length: 600 }, (_, i) => {
      const intentWrong = rand() < 0.2;
      const retrievalError = rand() < 0.03;
      const finalFails = intentWrong ? rand() < 0.85 : rand() < 0.06 + (retrievalError ? 0.3 : 0);
      const rows: SpanRow[] = [
        span(`r${i}`, '', 0, 300, {
          name: 'support_chain',
          scores: [{ name: 'answer_quality', value: finalFails ? 0 : 1 }],
        }),
        span(`c${i}`, `r${i}`, 0, 50, {
          name: 'classify_intent',
          scores: [{ name: 'intent_correct', value: intentWrong ? 0 : 1 }],
        }),
        span(`s${i}`, `r${i}`, 50, 50, { name: 'retrieve', status: retrievalError ? 'Error' : 'Unset' }),
        span(`a${i}`, `r${i}`, 100, 200, { name: 'answer', call: call('q', 'a') }),
      ];
      return traceOutcome(buildSteps(rows)!, 0.5);
    });
    const report = chainReport('support_chain', outcomes);
    expect(report.driver).toBe('classify_intent');
    const intent = report.steps.find((s) => s.name === 'classify_intent')!;
    expect(intent.position).toBe(0);
    expect(intent.riskDifference!.low).toBeGreaterThan(0.5);
    expect(report.steps.find((s) => s.name === 'answer')!.attributableShare).toBe(0);
    expect(report.endToEndSuccess).toBeLessThan(0.85);
  });
});

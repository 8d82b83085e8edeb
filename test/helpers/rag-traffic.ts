import { seededRandom } from '@llmwatch/core';
// The demo's random helpers: one copy for the demo, its seed and the generated test traffic.
import { pick, randomHex } from '../../collector/src/demo/scenario.js';

/**
 * Labelled synthetic RAG traffic from a seed, for the RAG diagnosis tests and `pnpm bench rag`:
 * a knowledge base of topics whose vocabulary is drawn at random (so nothing is tuned to English
 * examples), questions that paraphrase a topic with filler and missing words, retrievals that hit,
 * miss or find nothing, and answers that are grounded, invented or refusals. Each trace is sent as
 * OTLP spans in one of two dialects — the llmwatch SDK / GenAI semconv form, or OpenInference's —
 * with or without document text (then only retriever scores tell relevance).
 */

export type RagLabel = 'ok' | 'knowledge_gap' | 'retrieval_miss' | 'ungrounded' | 'refusal';
export type RagDialect = 'genai' | 'openinference';

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status: { code: number };
}

export interface LabelledTrace {
  traceId: string;
  label: RagLabel;
  dialect: RagDialect;
  topic: string;
  question: string;
  spans: OtlpSpan[];
}

export interface Topic {
  name: string;
  terms: string[];
  doc: { id: string; content: string };
}

const SYLLABLES =
  'ka lo mi ra te vu zen dor fal gri hop jun kel mar nov pex qui ros sul tam vin wex yor zal bri cra dru fle glo'.split(
    ' ',
  );
const FILLER = 'please quickly the my our a an for with about regarding this that current new usual'.split(
  ' ',
);
const VERBS = 'configure reset replace activate cancel upgrade calibrate renew transfer export'.split(' ');
const REFUSALS = [
  "I'm sorry, but I can't help with that.",
  "I'm afraid I cannot provide that information.",
  'I am unable to answer this question.',
  "I don't have enough information to answer that.",
  'Unfortunately I cannot assist with this request.',
  'As an AI, I am not able to share that.',
  'Lo siento, no puedo ayudar con eso.',
  'Es tut mir leid, ich kann Ihnen dabei nicht helfen.',
];

function word(rand: () => number, syllables = 3): string {
  let w = '';
  for (let i = 0; i < syllables; i++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
  return w;
}

function sample<T>(rand: () => number, items: readonly T[], n: number): T[] {
  const copy = [...items];
  const out: T[] = [];
  while (out.length < n && copy.length) out.push(copy.splice(Math.floor(rand() * copy.length), 1)[0] as T);
  return out;
}

function topicOf(rand: () => number, index: number): Topic {
  const terms = Array.from({ length: 6 }, () => word(rand, 2 + Math.floor(rand() * 2)));
  const facts = `To ${pick(rand, VERBS)} the ${terms[0]} ${terms[1]}, open the ${terms[2]} panel and set ${terms[3]} to ${Math.floor(rand() * 90) + 10}. The ${terms[4]} keeps ${terms[5]} for ${Math.floor(rand() * 28) + 2} days.`;
  return { name: `topic-${index}`, terms, doc: { id: `kb-${index}`, content: facts } };
}

function questionAbout(rand: () => number, topic: Topic): string {
  // 3–4 of the topic's terms, some filler, in a shuffled order: paraphrases, not copies.
  const terms = sample(rand, topic.terms, 3 + Math.floor(rand() * 2));
  const filler = sample(rand, FILLER, 1 + Math.floor(rand() * 3));
  const words = [...terms, ...filler].sort(() => rand() - 0.5);
  return `How do I ${pick(rand, VERBS)} ${words.join(' ')}?`;
}

function groundedAnswer(rand: () => number, topic: Topic): string {
  const sentences = topic.doc.content.split('. ');
  return `${pick(rand, ['Sure. ', 'Here is how: ', '', 'According to our docs, '])}${sample(rand, sentences, 1 + Math.floor(rand() * 2)).join('. ')}`;
}

function inventedAnswer(rand: () => number, topic: Topic): string {
  const invented = Array.from({ length: 5 }, () => word(rand, 3));
  return `You need to ${pick(rand, VERBS)} the ${topic.terms[0]} through the ${invented[0]} ${invented[1]} portal, then call ${invented[2]} support with your ${invented[3]} ${invented[4]} number.`;
}

export interface RagTrafficOptions {
  seed: number;
  traces: number;
  /** Event time of the first trace, ms; traces are spread over `spreadMs`. */
  startMs: number;
  spreadMs: number;
  /** Share of each label (normalised). */
  mix?: Partial<Record<RagLabel, number>>;
  /** Topics in the knowledge base. @default 12 */
  topics?: number;
  /** Share of traces whose retriever sends no document text (scores only). @default 0.15 */
  scoresOnly?: number;
  /** Questions of knowledge gaps come from these extra topics (not in the knowledge base). */
  gapTopics?: Topic[];
  /** Root span name: the pipeline. @default 'support-rag' */
  pipeline?: string;
}

export function makeTopics(seed: number, count: number, offset = 0): Topic[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => topicOf(rand, i + offset));
}

const DEFAULT_MIX: Record<RagLabel, number> = {
  ok: 0.5,
  knowledge_gap: 0.15,
  retrieval_miss: 0.12,
  ungrounded: 0.13,
  refusal: 0.1,
};

/**
 * The traffic, in time order. Every knowledge-base topic is retrieved correctly by a few "ok"
 * traces first, so a later miss on it can be told from a gap (as in production, where the
 * documents a knowledge base holds show up in some retrievals).
 */
export function ragTraffic(options: RagTrafficOptions): LabelledTrace[] {
  const rand = seededRandom(options.seed);
  const kb = makeTopics(options.seed * 7 + 1, options.topics ?? 12);
  const gapTopics = options.gapTopics ?? makeTopics(options.seed * 7 + 2, 8, 1000);
  const mix = { ...DEFAULT_MIX, ...options.mix };
  const total = Object.values(mix).reduce((a, b) => a + b, 0);
  const labels = Object.keys(mix) as RagLabel[];
  const scoresOnly = options.scoresOnly ?? 0.15;
  const out: LabelledTrace[] = [];
  const warmUp = kb.length * 2;
  for (let i = 0; i < options.traces + warmUp; i++) {
    let label: RagLabel;
    if (i < warmUp) label = 'ok';
    else {
      let r = rand() * total;
      label = labels.find((l) => (r -= mix[l]) < 0) ?? 'ok';
    }
    const topic =
      label === 'knowledge_gap' ? pick(rand, gapTopics) : i < warmUp ? kb[i % kb.length]! : pick(rand, kb);
    const distractors = sample(
      rand,
      kb.filter((t) => t !== topic),
      1 + Math.floor(rand() * 3),
    ).map((t) => t.doc);
    const hit = label === 'ok' || label === 'ungrounded' || label === 'refusal';
    const empty = label === 'knowledge_gap' && rand() < 0.25;
    const docs = empty
      ? []
      : hit
        ? sample(rand, [topic.doc, ...distractors], distractors.length + 1)
        : distractors;
    // Gaps and misses need document text to be told apart; scores alone serve the hit cases.
    const withText = !hit || rand() >= scoresOnly;
    const answer =
      label === 'refusal'
        ? pick(rand, REFUSALS)
        : label === 'ungrounded'
          ? inventedAnswer(rand, topic)
          : label === 'ok'
            ? groundedAnswer(rand, topic)
            : pick(rand, [inventedAnswer(rand, topic), groundedAnswer(rand, topic), "I couldn't find that."]);
    const question = questionAbout(rand, topic);
    const startMs = options.startMs + Math.floor((i / (options.traces + warmUp)) * options.spreadMs);
    const dialect: RagDialect = rand() < 0.5 ? 'genai' : 'openinference';
    const traceId = randomHex(rand, 16);
    const scored = docs.map((d) => ({
      ...d,
      score: d === topic.doc ? 0.7 + rand() * 0.25 : 0.1 + rand() * 0.3,
    }));
    out.push({
      traceId,
      label: i < warmUp ? 'ok' : label,
      dialect,
      topic: topic.name,
      question,
      spans: traceSpans(rand, {
        traceId,
        dialect,
        startMs,
        question,
        answer,
        docs: scored,
        withText,
        pipeline: options.pipeline ?? 'support-rag',
      }),
    });
  }
  return out;
}

function attr(key: string, value: string | number): OtlpAttribute {
  return typeof value === 'number'
    ? { key, value: Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value } }
    : { key, value: { stringValue: value } };
}

function traceSpans(
  rand: () => number,
  t: {
    traceId: string;
    dialect: RagDialect;
    startMs: number;
    question: string;
    answer: string;
    docs: Array<{ id: string; content: string; score: number }>;
    withText: boolean;
    pipeline: string;
  },
): OtlpSpan[] {
  const ns = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;
  const rootId = randomHex(rand, 8);
  const retrievalId = randomHex(rand, 8);
  const llmId = randomHex(rand, 8);
  const retrieveMs = 20 + rand() * 60;
  const llmMs = 300 + rand() * 900;
  const t0 = t.startMs;
  const docs = t.docs.map((d) => (t.withText ? d : { id: d.id, score: d.score }));
  const context = t.docs.map((d) => d.content).join('\n');
  const messagesIn = [
    {
      role: 'system',
      parts: [{ type: 'text', content: `Answer from this context only:\n${t.withText ? context : ''}` }],
    },
    { role: 'user', parts: [{ type: 'text', content: t.question }] },
  ];
  const messagesOut = [
    { role: 'assistant', parts: [{ type: 'text', content: t.answer }], finish_reason: 'stop' },
  ];
  const retrievalAttrs =
    t.dialect === 'genai'
      ? [
          attr('gen_ai.operation.name', 'retrieval'),
          attr('llmwatch.span.kind', 'retrieval'),
          attr('gen_ai.retrieval.query.text', t.question),
          attr('gen_ai.retrieval.documents', JSON.stringify(docs)),
        ]
      : [
          attr('openinference.span.kind', 'RETRIEVER'),
          attr('input.value', t.question),
          ...docs.flatMap((d, i) => [
            attr(`retrieval.documents.${i}.document.id`, d.id),
            attr(`retrieval.documents.${i}.document.score`, d.score),
            ...('content' in d ? [attr(`retrieval.documents.${i}.document.content`, d.content)] : []),
          ]),
        ];
  const llmAttrs =
    t.dialect === 'genai'
      ? [
          attr('gen_ai.operation.name', 'chat'),
          attr('gen_ai.provider.name', 'openai'),
          attr('gen_ai.request.model', 'gpt-4o-mini'),
          attr('gen_ai.usage.input_tokens', 400 + Math.floor(rand() * 400)),
          attr('gen_ai.usage.output_tokens', 40 + Math.floor(rand() * 80)),
          attr('gen_ai.input.messages', JSON.stringify(messagesIn)),
          attr('gen_ai.output.messages', JSON.stringify(messagesOut)),
          attr('gen_ai.prompt.name', 'support-answer'),
        ]
      : [
          attr('openinference.span.kind', 'LLM'),
          attr('llm.model_name', 'gpt-4o-mini'),
          attr('llm.provider', 'openai'),
          attr('llm.token_count.prompt', 400 + Math.floor(rand() * 400)),
          attr('llm.token_count.completion', 40 + Math.floor(rand() * 80)),
          attr('llm.input_messages.0.message.role', 'system'),
          attr('llm.input_messages.0.message.content', messagesIn[0]!.parts[0]!.content),
          attr('llm.input_messages.1.message.role', 'user'),
          attr('llm.input_messages.1.message.content', t.question),
          attr('llm.output_messages.0.message.role', 'assistant'),
          attr('llm.output_messages.0.message.content', t.answer),
        ];
  return [
    {
      traceId: t.traceId,
      spanId: rootId,
      name: t.pipeline,
      startTimeUnixNano: ns(t0),
      endTimeUnixNano: ns(t0 + retrieveMs + llmMs + 5),
      attributes: [
        attr(
          t.dialect === 'genai' ? 'llmwatch.span.kind' : 'openinference.span.kind',
          t.dialect === 'genai' ? 'chain' : 'CHAIN',
        ),
      ],
      status: { code: 0 },
    },
    {
      traceId: t.traceId,
      spanId: retrievalId,
      parentSpanId: rootId,
      name: t.dialect === 'genai' ? 'retrieval kb-search' : 'VectorStoreRetriever',
      startTimeUnixNano: ns(t0 + 1),
      endTimeUnixNano: ns(t0 + 1 + retrieveMs),
      attributes: retrievalAttrs,
      status: { code: 0 },
    },
    {
      traceId: t.traceId,
      spanId: llmId,
      parentSpanId: rootId,
      name: t.dialect === 'genai' ? 'chat gpt-4o-mini' : 'ChatOpenAI',
      startTimeUnixNano: ns(t0 + 2 + retrieveMs),
      endTimeUnixNano: ns(t0 + 2 + retrieveMs + llmMs),
      attributes: llmAttrs,
      status: { code: 0 },
    },
  ];
}

/** One OTLP/JSON export request holding `spans` of service `service`. */
export function otlpJson(spans: readonly OtlpSpan[], service = 'support-bot'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', service)] },
        scopeSpans: [{ scope: { name: 'rag-traffic', version: '1' }, spans }],
      },
    ],
  });
}

import { seededRandom } from '@llmwatch/core';
/**
 * Realistic, deterministic, backdated LLM traffic for the detection scenario suite: several
 * services, models and prompts, a daily load cycle of ±50%, ordinary noise (1% errors, long-tail
 * latencies and lengths, occasional tool calls), and injected incidents of every detection kind
 * at known times. Calls are described as plain records here and turned into real OTel spans by
 * send.ts.
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export interface CallSpec {
  service: string;
  provider: string;
  model: string;
  promptName: string;
  promptVersion: string;
  userId: string;
  startMs: number;
  latencyMs: number;
  ttftMs: number | null;
  inputTokens: number;
  outputTokens: number;
  finishReason: string;
  input: string;
  output: string;
  toolCall?: string;
  errorType?: string;
  /** An evaluation score posted to /api/scores for this call's trace. */
  score?: { name: string; value: number };
}

export type Kind =
  'cost_spike' | 'latency_regression' | 'error_rate' | 'drift' | 'prompt_regression' | 'pii_leak';

export interface Incident {
  name: string;
  kind: Kind;
  /** [fromMs, toMs) of event time where the incident is injected. */
  fromMs: number;
  toMs: number;
}

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
function lognormal(r: () => number, median: number, sigma: number): number {
  return median * Math.exp(sigma * normal(r));
}
function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}
function poisson(r: () => number, mean: number): number {
  // Normal approximation is fine for the rates used here (> 10 per hour).
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(r)));
}

const SUPPORT_TOPICS = [
  'Where is my order {id}? The tracking page has not changed for three days and the courier does not answer.',
  'I would like a refund for order {id}, the blender arrived broken and the box was damaged.',
  'How do I reset my password? The reset email never arrives in my inbox.',
  'Can I change the delivery address for order {id} before it ships?',
  'The discount code SPRING does not work at checkout, it says the code expired.',
  'I was charged twice for the same order {id}, please check my invoice.',
  'How long does shipping to Canada usually take for large furniture?',
  'The size chart for the running shoes seems wrong, should I order one size up?',
  'My subscription renewed automatically but I wanted to cancel it last week.',
  'Do you offer gift wrapping for orders placed before the holidays?',
];
const SUPPORT_DRIFT_TOPICS = [
  'How do I connect my bitcoin wallet to pay with crypto? The blockchain transaction is pending.',
  'Can I pay with ethereum tokens, and which wallet address should I send the crypto to?',
  'My crypto payment failed, the wallet shows the blockchain fee was charged twice.',
  'Do you accept stablecoins like USDC, and is the crypto wallet integration safe?',
];
const CLASSIFY_TEXTS = [
  'Ticket: customer cannot log in after the update, error code on the login screen.',
  'Ticket: package delivered to the wrong neighbour, customer asks for redelivery.',
  'Ticket: question about invoice totals and taxes for a business account.',
  'Ticket: product page shows the wrong colour for the jacket.',
  'Ticket: customer wants to upgrade the plan to the annual subscription.',
];
const CLASSIFY_TEXTS_ES = [
  'Ticket: el cliente no puede iniciar sesión después de la actualización y ve un error.',
  'Ticket: el paquete se entregó en la dirección equivocada, el cliente pide un nuevo envío.',
  'Ticket: pregunta sobre la factura y los impuestos de una cuenta de empresa.',
  'Ticket: la página del producto muestra un color que no es el correcto.',
];
const RAG_QUESTIONS = [
  'What does the warranty cover for the espresso machine and how do I file a claim?',
  'Summarize the return policy for electronics bought during the sale.',
  'Which of our laptops have a backlit keyboard and more than 16 GB of memory?',
  'How do I descale the coffee maker according to the manual?',
  'Compare the two vacuum cleaner models on battery life and noise.',
  'What are the store opening hours on public holidays?',
];
const DOC_TEXT =
  'Quarterly operations report. Revenue grew in every region while logistics costs declined. The warehouse automation project finished ahead of schedule. Customer satisfaction improved after the new returns process. ';
const ANSWER_WORDS =
  'thanks for reaching out we checked your request and the team will follow up shortly here are the details you asked for the policy allows this within thirty days please let us know if anything else comes up'.split(
    ' ',
  );

function answer(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(r, ANSWER_WORDS));
  return out.join(' ') + '.';
}

function fill(r: () => number, template: string): string {
  return template.replace('{id}', `A-${100 + Math.floor(r() * 800)}`);
}

interface Stream {
  service: string;
  provider: string;
  model: string;
  promptName: string;
  promptVersion: string;
  perHour: number;
  latencyMedian: number;
  ttftMedian: number | null;
  inputMedian: number;
  outputMedian: number;
  question: (r: () => number) => string;
  toolShare: number;
}

const STREAMS: Stream[] = [
  {
    service: 'support-bot',
    provider: 'openai',
    model: 'gpt-4o',
    promptName: 'support-answer',
    promptVersion: '7',
    perHour: 70,
    latencyMedian: 1400,
    ttftMedian: 350,
    inputMedian: 900,
    outputMedian: 180,
    question: (r) => fill(r, pick(r, SUPPORT_TOPICS)),
    toolShare: 0,
  },
  {
    service: 'support-bot',
    provider: 'openai',
    model: 'gpt-4o-mini',
    promptName: 'classify-ticket',
    promptVersion: '3',
    perHour: 50,
    latencyMedian: 450,
    ttftMedian: null,
    inputMedian: 300,
    outputMedian: 8,
    question: (r) => pick(r, CLASSIFY_TEXTS),
    toolShare: 0,
  },
  {
    service: 'search-api',
    provider: 'anthropic',
    model: 'claude-sonnet-4',
    promptName: 'rag-answer',
    promptVersion: '12',
    perHour: 45,
    latencyMedian: 2200,
    ttftMedian: 600,
    inputMedian: 2500,
    outputMedian: 260,
    question: (r) => pick(r, RAG_QUESTIONS),
    toolShare: 0.3,
  },
  {
    service: 'batch-summarizer',
    provider: 'openai',
    model: 'gpt-4o',
    promptName: 'summarize-report',
    promptVersion: '2',
    perHour: 40,
    latencyMedian: 5000,
    ttftMedian: null,
    inputMedian: 3500,
    outputMedian: 420,
    question: (r) => DOC_TEXT.repeat(2 + Math.floor(r() * 3)),
    toolShare: 0,
  },
];

export interface Scenario {
  startMs: number;
  endMs: number;
  calls: CallSpec[];
  incidents: Incident[];
  /** Windows with nothing injected anywhere: any alert there is a false alert. */
  controlWindows: Array<{ fromMs: number; toMs: number }>;
}

/**
 * Five days of traffic ending at `endMs` (hour-aligned). Days 0–2 are baseline only; day 3 is the
 * control day; day 4 has one incident after another, each followed by a quiet hour.
 */
export function buildScenario(endMs: number, seed = 7): Scenario {
  const r = seededRandom(seed);
  const startMs = endMs - 5 * DAY;
  const d4 = startMs + 4 * DAY;
  const at = (h: number) => d4 + h * HOUR;
  const incidents: Incident[] = [
    { name: 'runaway batch user burns money', kind: 'cost_spike', fromMs: at(2), toMs: at(3) },
    {
      name: 'prompt classify-ticket v4 rollout (longer, slower answers), rolled back',
      kind: 'prompt_regression',
      fromMs: at(5),
      toMs: at(7),
    },
    {
      name: 'secrets and card numbers sent to openai; model returns an email it was not given',
      kind: 'pii_leak',
      fromMs: at(9),
      toMs: at(10),
    },
    {
      name: 'anthropic slow: latency ×2.2, TTFT ×3 on rag-answer',
      kind: 'latency_regression',
      fromMs: at(11),
      toMs: at(13),
    },
    { name: 'one call with a 150k-token context', kind: 'cost_spike', fromMs: at(14), toMs: at(15) },
    {
      name: 'gpt-4o-mini rate limited (35% RateLimitError)',
      kind: 'error_rate',
      fromMs: at(16),
      toMs: at(17),
    },
    { name: 'support questions shift to crypto payments', kind: 'drift', fromMs: at(18), toMs: at(20) },
    {
      name: 'summaries truncated: finish_reason length, short outputs',
      kind: 'drift',
      fromMs: at(21),
      toMs: at(22),
    },
    { name: 'tickets arrive in Spanish (language mix)', kind: 'drift', fromMs: at(23), toMs: at(24) },
  ];
  const inIncident = (name: string, t: number) => {
    const i = incidents.find((x) => x.name.startsWith(name))!;
    return t >= i.fromMs && t < i.toMs;
  };
  const calls: CallSpec[] = [];
  const users = Array.from({ length: 300 }, (_, i) => `user-${i + 1}`);

  for (let hourStart = startMs; hourStart < endMs; hourStart += HOUR) {
    const hourOfDay = new Date(hourStart).getUTCHours();
    // Daily load cycle: trough at 04:00, peak at 16:00, ±50% around the mean.
    const load = 1 + 0.5 * Math.sin((2 * Math.PI * (hourOfDay - 10)) / 24);
    for (const s of STREAMS) {
      const n = poisson(r, s.perHour * load);
      for (let k = 0; k < n; k++) {
        const t = hourStart + Math.floor(r() * HOUR);
        let version = s.promptVersion;
        let latency = lognormal(r, s.latencyMedian, 0.35);
        let ttft = s.ttftMedian === null ? null : lognormal(r, s.ttftMedian, 0.3);
        const inputTokens = Math.round(lognormal(r, s.inputMedian, 0.3));
        let outputTokens = Math.max(1, Math.round(lognormal(r, s.outputMedian, 0.4)));
        let question = s.question(r);
        let finish = 'stop';
        let errorType: string | undefined;
        let output = answer(r, 12 + Math.floor(r() * 20));
        if (s.promptName === 'classify-ticket' && inIncident('prompt classify-ticket', t)) {
          version = '4';
          outputTokens = Math.round(outputTokens * 6);
          latency *= 1.8;
          output = answer(r, 60);
        }
        if (s.promptName === 'rag-answer' && inIncident('anthropic slow', t)) {
          latency *= 2.2;
          ttft = ttft === null ? null : ttft * 3;
        }
        if (s.promptName === 'support-answer' && inIncident('support questions shift', t) && r() < 0.7)
          question = fill(r, pick(r, SUPPORT_DRIFT_TOPICS));
        if (s.promptName === 'classify-ticket' && inIncident('tickets arrive in Spanish', t) && r() < 0.6)
          question = pick(r, CLASSIFY_TEXTS_ES);
        // Routine personal data: some users put their email in the question, and the answer
        // template often gives the shop's support address. Neither is an incident.
        if (s.promptName === 'support-answer' && r() < 0.03)
          question = `${question} You can reach me at ${pick(r, users)}@mailbox-example.org.`;
        if (s.promptName === 'support-answer' && r() < 0.05)
          output = `${output} For anything else write to help@shop-example.com.`;
        if (s.promptName === 'summarize-report' && inIncident('summaries truncated', t)) {
          finish = 'length';
          outputTokens = Math.min(outputTokens, 120 + Math.floor(r() * 10));
        }
        if (r() < 0.01) errorType = pick(r, ['RateLimitError', 'APIConnectionError', 'InternalServerError']);
        if (s.model === 'gpt-4o-mini' && inIncident('gpt-4o-mini rate limited', t) && r() < 0.35)
          errorType = 'RateLimitError';
        const tool = r() < s.toolShare ? 'search_catalog' : undefined;
        if (tool) finish = 'tool_call';
        if (errorType) {
          outputTokens = 0;
          latency = Math.min(latency, lognormal(r, 300, 0.3));
          ttft = null;
          finish = '';
        }
        calls.push({
          service: s.service,
          provider: s.provider,
          model: s.model,
          promptName: s.promptName,
          promptVersion: version,
          userId: pick(r, users),
          startMs: t,
          latencyMs: Math.round(Math.max(latency, (ttft ?? 0) + 10)),
          ttftMs: ttft === null ? null : Math.round(ttft),
          inputTokens,
          outputTokens,
          finishReason: finish,
          input: question,
          output: errorType ? '' : output,
          ...(tool ? { toolCall: tool } : {}),
          ...(errorType ? { errorType } : {}),
        });
        if (s.promptName === 'classify-ticket' && !errorType && r() < 0.8)
          calls[calls.length - 1]!.score = {
            name: 'label_accuracy',
            value: version === '4' ? (r() < 0.6 ? 1 : 0) : r() < 0.92 ? 1 : 0,
          };
      }
    }
  }

  // Runaway job: one user hammers support-answer with long contexts for an hour.
  const runaway = incidents[0]!;
  for (let k = 0; k < 500; k++) {
    calls.push({
      service: 'batch-summarizer',
      provider: 'openai',
      model: 'gpt-4o',
      promptName: 'summarize-report',
      promptVersion: '2',
      userId: 'etl-nightly',
      startMs: runaway.fromMs + Math.floor((k / 500) * HOUR),
      latencyMs: Math.round(lognormal(r, 5000, 0.3)),
      ttftMs: null,
      inputTokens: Math.round(lognormal(r, 3500, 0.3)),
      outputTokens: Math.round(lognormal(r, 420, 0.4)),
      finishReason: 'stop',
      input: DOC_TEXT.repeat(3),
      output: answer(r, 30),
    });
  }

  // One enormous call among ordinary ones.
  const whale = incidents[4]!;
  calls.push({
    service: 'support-bot',
    provider: 'openai',
    model: 'gpt-4o',
    promptName: 'support-answer',
    promptVersion: '7',
    userId: 'user-42',
    startMs: whale.fromMs + 20 * 60_000,
    latencyMs: 21_000,
    ttftMs: 9000,
    inputTokens: 150_000,
    outputTokens: 900,
    finishReason: 'stop',
    input: 'Please read the attached export of all my previous conversations and summarize them.',
    output: answer(r, 40),
  });

  // PII: secrets and card numbers in prompts to an external provider, and an email the model invented.
  const pii = incidents[2]!;
  for (let k = 0; k < 4; k++) {
    calls.push({
      service: 'support-bot',
      provider: 'openai',
      model: 'gpt-4o',
      promptName: 'support-answer',
      promptVersion: '7',
      userId: 'user-7',
      startMs: pii.fromMs + k * 9 * 60_000,
      latencyMs: 1500,
      ttftMs: 400,
      inputTokens: 900,
      outputTokens: 150,
      finishReason: 'stop',
      input:
        k % 2 === 0
          ? 'My deploy fails, here is the config: aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
          : 'Please charge my card 4111 1111 1111 1111 for the replacement part.',
      output: answer(r, 20),
    });
  }
  for (let k = 0; k < 3; k++) {
    calls.push({
      service: 'support-bot',
      provider: 'openai',
      model: 'gpt-4o',
      promptName: 'support-answer',
      promptVersion: '7',
      userId: 'user-8',
      startMs: pii.fromMs + (5 + k * 10) * 60_000,
      latencyMs: 1500,
      ttftMs: 400,
      inputTokens: 900,
      outputTokens: 150,
      finishReason: 'stop',
      input: 'Who is the account manager for the enterprise plan?',
      output: 'You can write directly to our account manager at dana.whitfield@example-corp.com for that.',
    });
  }

  calls.sort((a, b) => a.startMs - b.startMs);
  const controlWindows: Scenario['controlWindows'] = [];
  for (let h = 0; h < 24; h++)
    controlWindows.push({ fromMs: startMs + 3 * DAY + h * HOUR, toMs: startMs + 3 * DAY + (h + 1) * HOUR });
  // Every hour of day 4 without an incident, including the hours right after one.
  for (let h = 0; h < 24; h++) {
    if (incidents.some((i) => at(h) < i.toMs && at(h + 1) > i.fromMs)) continue;
    controlWindows.push({ fromMs: at(h), toMs: at(h + 1) });
  }
  return { startMs, endMs, calls, incidents, controlWindows };
}

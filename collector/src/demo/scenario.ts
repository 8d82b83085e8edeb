/**
 * The demo's little world: a support bot and a search API calling OpenAI and Anthropic models
 * with three prompts, forty users, and what their messages and answers look like. Shared by the
 * backdated baseline (OTLP exporter) and the live traffic (SDK + official clients), so both look
 * alike to the detectors except for the injected incidents.
 */

export const DAY_MS = 86_400_000;

export interface ModelPlan {
  provider: 'openai' | 'anthropic';
  model: string;
  /** Share of normal traffic. */
  weight: number;
  /** Normal latency range, ms. */
  latencyMs: [number, number];
}

export const MODELS: ModelPlan[] = [
  { provider: 'openai', model: 'gpt-4o-mini', weight: 0.45, latencyMs: [400, 800] },
  { provider: 'openai', model: 'gpt-4o', weight: 0.2, latencyMs: [600, 1200] },
  { provider: 'anthropic', model: 'claude-haiku-4-5', weight: 0.35, latencyMs: [500, 1000] },
];

export const SERVICES = ['support-bot', 'search-api'] as const;

export interface PromptPlan {
  name: string;
  version: string;
  system: string;
  questions: string[];
  answers: string[];
  outputTokens: [number, number];
}

export const PROMPTS: PromptPlan[] = [
  {
    name: 'answer',
    version: '3',
    system: 'You are a helpful support agent for Acme Cloud. Answer briefly and cite the docs.',
    questions: [
      'How do I rotate my API key without downtime?',
      'Why was my invoice higher this month?',
      'Can I move a project to another region?',
      'The dashboard shows a 502 error, what should I do?',
      'How do I add a teammate with read-only access?',
      'Is there a limit on the number of webhooks per project?',
    ],
    answers: [
      'Create a second key, deploy it, then revoke the old one from Settings > API keys.',
      'Usage-based items rose: see Billing > Usage for the breakdown by service.',
      'Yes: use Project > Migrate, which copies data and switches traffic with no downtime.',
      'A 502 usually means the upstream is restarting; retry, then check the status page.',
      'Invite them from Team > Members and pick the Viewer role.',
      'Each project can have up to 50 webhooks; contact support to raise the limit.',
    ],
    outputTokens: [60, 220],
  },
  {
    name: 'summarize',
    version: '1',
    system: 'Summarize the customer conversation in three bullet points.',
    questions: [
      'Customer reports slow uploads since Tuesday; agent suggested multipart uploads; issue resolved.',
      'User asked for a refund of a duplicate charge; agent confirmed and issued the refund.',
      'Customer cannot log in after enabling SSO; agent found a wrong redirect URL.',
    ],
    answers: [
      '- Slow uploads since Tuesday\n- Suggested multipart uploads\n- Resolved',
      '- Duplicate charge\n- Refund confirmed\n- Closed',
      '- SSO login failure\n- Wrong redirect URL\n- Fixed by customer',
    ],
    outputTokens: [40, 120],
  },
  {
    name: 'classify',
    version: '2',
    system: 'Classify the ticket as billing, technical, account or other. Reply with one word.',
    questions: [
      'My card was charged twice.',
      'The API returns 429 errors.',
      'I forgot my password.',
      'Do you have a student discount?',
    ],
    answers: ['billing', 'technical', 'account', 'other'],
    outputTokens: [1, 4],
  },
];

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** `bytes` random bytes as lower-case hex (trace and span ids). */
export function randomHex(rand: () => number, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++)
    s += Math.floor(rand() * 256)
      .toString(16)
      .padStart(2, '0');
  return s;
}

export function between(rand: () => number, [lo, hi]: [number, number]): number {
  return lo + rand() * (hi - lo);
}

export function pickModel(rand: () => number): ModelPlan {
  let r = rand();
  for (const m of MODELS) {
    r -= m.weight;
    if (r <= 0) return m;
  }
  return MODELS[0]!;
}

/** One normal call: who asks what of which model, and what comes back. */
export interface CallPlan {
  service: (typeof SERVICES)[number];
  model: ModelPlan;
  prompt: PromptPlan;
  userId: string;
  sessionId: string;
  question: string;
  answer: string;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  stream: boolean;
}

export function normalCall(rand: () => number): CallPlan {
  const model = pickModel(rand);
  const prompt = pick(rand, PROMPTS);
  const i = Math.floor(rand() * prompt.questions.length);
  const question = prompt.questions[i]!;
  return {
    service: prompt.name === 'answer' ? 'support-bot' : pick(rand, SERVICES),
    model,
    prompt,
    // A few heavy users and a long tail, like real traffic.
    userId: `user-${1 + Math.floor(rand() ** 2 * 40)}`,
    sessionId: `sess-${Math.floor(rand() * 1e6).toString(36)}`,
    question,
    answer: prompt.answers[i % prompt.answers.length]!,
    inputTokens: Math.round((prompt.system.length + question.length) / 4) + Math.floor(rand() * 400),
    outputTokens: Math.round(between(rand, prompt.outputTokens)),
    latencyMs: between(rand, model.latencyMs),
    stream: rand() < 0.4,
  };
}

/** The injected incidents, named in the demo's output. */
export const INCIDENTS = {
  runawayUser: {
    userId: 'user-runaway-7',
    model: 'gpt-4o',
    calls: 40,
    outputTokens: 6000,
    description: 'a runaway user loops a long-answer prompt on gpt-4o (cost spike)',
  },
  slowModel: {
    model: 'claude-haiku-4-5',
    calls: 40,
    latencyMs: [4000, 5000] as [number, number],
    description: 'claude-haiku-4-5 answers 5x slower than usual (latency regression)',
  },
  rateLimits: {
    model: 'gpt-4o-mini',
    calls: 50,
    errorShare: 0.45,
    description: 'gpt-4o-mini starts answering 429 rate limits (error rate)',
  },
  piiLeak: {
    calls: 6,
    description:
      'customers paste e-mail addresses and card numbers, and an answer leaks an API key (PII leak)',
    inputs: [
      'Please update my billing e-mail to jane.doe@example.com and charge card 4111 1111 1111 1111.',
      'My colleague bob.smith@example.org cannot log in, his phone is +1 415 555 0142.',
      'Refund to card 5500 0000 0000 0004 please, contact me at j.roe@example.net.',
    ],
    leakedAnswer:
      'Use this key for the integration: sk-proj-Xb3kT9vQ2mN8pL4rW7yZ1aC5dF6gH0jK2lM9nB4vC8xZ3 (do not share it).',
  },
} as const;

import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '../packages/fake-llm/src/index.js';
import type {
  Mode,
  ModeResult,
  Transport,
  Variant,
  WorkerResult,
} from '../packages/sdk/bench/overhead-worker.js';
import type { BenchResult } from './types.js';

/**
 * SDK overhead: the official `openai` client calling a local fake server, with no
 * instrumentation, with llmwatch, with the peers' OpenAI instrumentations and with a minimal
 * hand-written OTel wrapper (the floor); every variant exports to an in-memory exporter.
 * Each variant runs in its own process; variants are interleaved (rotated order) over several
 * rounds so drift on a shared machine hits them all alike. CPU µs per call comes from
 * process.cpuUsage() over all calls of a run (the steadier figure); latency is per call.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const worker = join(root, 'packages/sdk/bench/overhead-worker.ts');

const VARIANTS: readonly Variant[] = [
  'none',
  'floor',
  'llmwatch',
  'llmwatch-redacted',
  'openllmetry',
  'openinference',
  'langfuse',
];
const LABEL: Record<Variant, string> = {
  none: 'no instrumentation',
  floor: 'hand-written OTel wrapper (floor)',
  llmwatch: 'llmwatch (capture full)',
  'llmwatch-redacted': 'llmwatch (capture redacted, default)',
  openllmetry: 'OpenLLMetry @traceloop/instrumentation-openai',
  openinference: 'OpenInference @arizeai/openinference-instrumentation-openai',
  langfuse: 'Langfuse @langfuse/openai observeOpenAI',
};
const MODES: readonly Mode[] = ['nonstream', 'stream'];
// ~23 words → 23 content chunks per streamed answer; usage numbers checked by the worker.
const CONTENT =
  'Try "The Murderbot Diaries: All Systems Red" by Martha Wells. It is short, funny and tense, and you will finish it before the train arrives.';

function runWorker(
  variant: Variant,
  url: string,
  calls: number,
  warmup: number,
  transport: Transport,
): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        '--conditions=@llmwatch/source',
        '--import',
        'tsx',
        worker,
        variant,
        url,
        String(calls),
        String(warmup),
        transport,
      ],
      { cwd: root, timeout: 600_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${variant} worker failed: ${error.message}\n${stderr}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as WorkerResult);
        } catch {
          reject(new Error(`${variant} worker printed no result: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface SdkOverheadRow {
  transport: Transport;
  variant: Variant;
  mode: Mode;
  cpuUsPerCall: number;
  addedCpuUs: number;
  addedMedianMs: number;
  addedP99Ms: number;
  spansPerCall: number;
  usageRecorded: boolean;
  keepsApiPromise: boolean;
}

const TRANSPORTS: Record<Transport, { calls: [number, number]; warmup: [number, number]; title: string }> = {
  inprocess: {
    calls: [1000, 5000],
    warmup: [300, 1000],
    title:
      "in-process transport (the client's `fetch` returns recorded fake-server bodies: no socket noise, instrumentation cost resolvable to a few µs)",
  },
  loopback: {
    calls: [200, 1000],
    warmup: [50, 200],
    title:
      'loopback HTTP to the fake server (realistic client path; ±100 µs noise between processes on 2 shared cores)',
  },
};

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const q = options.quick ? 0 : 1;
  const rounds = options.quick ? 2 : 5;
  const fake = await startFakeOpenAI({
    defaults: { content: CONTENT, usage: { inputTokens: 57, outputTokens: 23 } },
  });
  const rows: SdkOverheadRow[] = [];
  const raw: Record<string, unknown> = {};
  const fmt = (n: number, d = 0) => (n >= 0 ? '+' : '') + n.toFixed(d);
  const lines = [
    '## SDK overhead per OpenAI call',
    '',
    `The official \`openai\` client, ${rounds} rounds per variant; each variant runs in its own process, order rotated every round; every instrumentation exports to an in-memory exporter. "Added" = variant − no instrumentation in the same round, median over rounds; CPU from process.cpuUsage() over all calls of a run. Streaming calls use \`stream_options.include_usage\` (${CONTENT.split(' ').length} content chunks + usage chunk).`,
  ];
  try {
    for (const transport of ['inprocess', 'loopback'] as const) {
      const { calls: c, warmup: w, title } = TRANSPORTS[transport];
      const calls = c[q]!;
      const warmup = w[q]!;
      const perRound: Map<Variant, WorkerResult>[] = [];
      for (let r = 0; r < rounds; r++) {
        const results = new Map<Variant, WorkerResult>();
        // Rotate the order each round: no variant always runs first (cold machine) or last.
        for (let i = 0; i < VARIANTS.length; i++) {
          const v = VARIANTS[(i + r) % VARIANTS.length]!;
          results.set(v, await runWorker(v, fake.url, calls, warmup, transport));
        }
        perRound.push(results);
      }
      raw[transport] = perRound.map((m) => Object.fromEntries(m));
      lines.push(
        '',
        `### ${title}`,
        '',
        `${calls} calls per run after ${warmup} warm-up calls.`,
        '',
        '| mode | variant | CPU µs/call | added CPU µs/call | added median latency µs | added p99 latency µs | spans/call | exact token usage recorded | returns provider APIPromise |',
        '|---|---|---:|---:|---:|---:|---:|:-:|:-:|',
      );
      for (const mode of MODES) {
        for (const v of VARIANTS) {
          const mine = perRound.map((round) => round.get(v)!.modes[mode]);
          const base = perRound.map((round) => round.get('none')!.modes[mode]);
          const diff = (f: (m: ModeResult) => number) => median(mine.map((m, i) => f(m) - f(base[i]!)));
          const row: SdkOverheadRow = {
            transport,
            variant: v,
            mode,
            cpuUsPerCall: median(mine.map((m) => m.cpuUsPerCall)),
            addedCpuUs: diff((m) => m.cpuUsPerCall),
            addedMedianMs: diff((m) => m.medianMs),
            addedP99Ms: diff((m) => m.p99Ms),
            spansPerCall: median(mine.map((m) => m.spansPerCall)),
            usageRecorded: mine.every((m) => m.usageRecorded),
            keepsApiPromise: perRound.every((round) => round.get(v)!.keepsApiPromise),
          };
          rows.push(row);
          const none = v === 'none';
          lines.push(
            `| ${mode === 'stream' ? 'streaming' : 'non-streaming'} | ${LABEL[v]} | ${row.cpuUsPerCall.toFixed(0)} | ${none ? '—' : fmt(row.addedCpuUs)} | ${none ? '—' : fmt(row.addedMedianMs * 1000)} | ${none ? '—' : fmt(row.addedP99Ms * 1000)} | ${row.spansPerCall.toFixed(2)} | ${none ? '—' : row.usageRecorded ? 'yes' : 'no'} | ${row.keepsApiPromise ? 'yes' : 'no'} |`,
          );
        }
      }
    }
  } finally {
    await fake.close();
  }
  return { name: 'sdk-overhead', markdown: lines.join('\n'), data: { rounds, rows, raw } };
}

// Standalone: `node --conditions=@llmwatch/source --import tsx bench/sdk-overhead.ts [--quick]`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(result.markdown + '\n');
}

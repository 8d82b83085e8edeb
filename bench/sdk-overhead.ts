import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAI } from '../packages/fake-llm/src/index.js';
import type { Mode, ModeResult, Variant, WorkerResult } from '../packages/sdk/bench/overhead-worker.js';
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

function runWorker(variant: Variant, url: string, calls: number, warmup: number): Promise<WorkerResult> {
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

export async function run(options: { quick?: boolean } = {}): Promise<BenchResult> {
  const rounds = options.quick ? 2 : 5;
  const calls = options.quick ? 200 : 1000;
  const warmup = options.quick ? 50 : 200;
  const fake = await startFakeOpenAI({
    defaults: { content: CONTENT, usage: { inputTokens: 57, outputTokens: 23 } },
  });
  const perRound: Map<Variant, WorkerResult>[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const results = new Map<Variant, WorkerResult>();
      // Rotate the order each round: no variant always runs first (cold machine) or last.
      for (let i = 0; i < VARIANTS.length; i++) {
        const v = VARIANTS[(i + r) % VARIANTS.length]!;
        results.set(v, await runWorker(v, fake.url, calls, warmup));
      }
      perRound.push(results);
    }
  } finally {
    await fake.close();
  }

  const rows: SdkOverheadRow[] = [];
  for (const mode of MODES) {
    for (const v of VARIANTS) {
      const mine = perRound.map((round) => round.get(v)!.modes[mode]);
      const base = perRound.map((round) => round.get('none')!.modes[mode]);
      const diff = (f: (m: ModeResult) => number) => median(mine.map((m, i) => f(m) - f(base[i]!)));
      rows.push({
        variant: v,
        mode,
        cpuUsPerCall: median(mine.map((m) => m.cpuUsPerCall)),
        addedCpuUs: diff((m) => m.cpuUsPerCall),
        addedMedianMs: diff((m) => m.medianMs),
        addedP99Ms: diff((m) => m.p99Ms),
        spansPerCall: median(mine.map((m) => m.spansPerCall)),
        usageRecorded: mine.every((m) => m.usageRecorded),
        keepsApiPromise: perRound.every((round) => round.get(v)!.keepsApiPromise),
      });
    }
  }

  const fmt = (n: number, d = 0) => (n >= 0 ? '+' : '') + n.toFixed(d);
  const lines = [
    '## SDK overhead per OpenAI call',
    '',
    `${rounds} rounds × ${calls} calls per variant and mode (after ${warmup} warm-up calls), each variant in its own process, order rotated per round; fake OpenAI server on loopback; in-memory span exporter. "Added" = variant − no instrumentation in the same round, median over rounds. Streaming calls use \`stream_options.include_usage\` (23 chunks).`,
    '',
    '| mode | variant | CPU µs/call | added CPU µs/call | added median latency µs | added p99 latency µs | spans/call | exact stream/usage tokens recorded | returns provider APIPromise |',
    '|---|---|---:|---:|---:|---:|---:|:-:|:-:|',
    ...rows.map(
      (r) =>
        `| ${r.mode === 'stream' ? 'streaming' : 'non-streaming'} | ${LABEL[r.variant]} | ${r.cpuUsPerCall.toFixed(0)} | ${r.variant === 'none' ? '—' : fmt(r.addedCpuUs)} | ${r.variant === 'none' ? '—' : fmt(r.addedMedianMs * 1000)} | ${r.variant === 'none' ? '—' : fmt(r.addedP99Ms * 1000)} | ${r.spansPerCall.toFixed(2)} | ${r.variant === 'none' ? '—' : r.usageRecorded ? 'yes' : 'no'} | ${r.keepsApiPromise ? 'yes' : 'no'} |`,
    ),
  ];
  return {
    name: 'sdk-overhead',
    markdown: lines.join('\n'),
    data: { rounds, calls, warmup, rows, raw: perRound.map((m) => Object.fromEntries(m)) },
  };
}

// Standalone: `node --conditions=@llmwatch/source --import tsx bench/sdk-overhead.ts [--quick]`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await run({ quick: process.argv.includes('--quick') });
  process.stdout.write(result.markdown + '\n');
}

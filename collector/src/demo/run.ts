import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { startFakeAnthropic, startFakeOpenAI } from '@llmwatch/fake-llm';
import {
  flush as flushSdk,
  init as initSdk,
  shutdown as shutdownSdk,
  stats as sdkStats,
} from '@llmwatch/sdk';
import { parseConfig, type LlmwatchConfig } from '../config/index.js';
import { detectRange } from '../detect/engine.js';
import type { Detection } from '../detect/types.js';
import { alertRecorder } from '../alert/index.js';
import { fetchDetections, fetchReport } from '../api/client.js';
import { LlmwatchError } from '../errors.js';
import { silentLogger } from '../logging.js';
import type { Report } from '../report/build.js';
import { startCollector, type RunningCollector, type StartOptions } from '../server/collector.js';
import { runningCollectorOf } from '../storage/data-dir.js';
import { sendBaseline } from './baseline.js';
import { measureOverheadMs, planLiveTraffic, sendLiveTraffic } from './live.js';
import { INCIDENTS } from './scenario.js';

export interface DemoOptions {
  /** Use this running collector instead of starting one. */
  collectorUrl?: string;
  apiKey?: string;
  /** Data directory of the collector the demo starts (wiped first: it holds demo data only). */
  dataDir?: string;
  /** Normal live calls besides the incidents. @default 70 */
  normalCalls?: number;
  /** Where progress goes. @default process.stderr */
  progress?: NodeJS.WritableStream;
  seed?: number;
  /** Send the backdated baseline (off for later rounds of `--loop`: it is already there). @default true */
  baseline?: boolean;
  /** Pipeline stages of the collector the demo starts (tests). */
  stages?: StartOptions['stages'];
}

export interface DemoResult {
  collectorUrl: string;
  /** Data directory of the collector the demo started (none when it used `collectorUrl`). */
  dataDir?: string;
  baselineSpans: number;
  liveCalls: number;
  liveErrors: number;
  detections: Detection[];
  report: Report;
  seconds: number;
}

/** A one-line progress bar on a TTY, plain lines otherwise. */
function progressBar(out: NodeJS.WritableStream, label: string) {
  const tty = (out as { isTTY?: boolean }).isTTY === true;
  let last = -1;
  return (done: number, total: number) => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (tty) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      out.write(`\r  ${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total}`);
      if (done >= total) out.write('\n');
    } else if (pct >= last + 25 || done >= total) {
      last = pct;
      out.write(`  ${label}: ${done}/${total}\n`);
    }
  };
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new LlmwatchError('unavailable', `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The demo: start (or use) a collector, give it a few days of backdated normal traffic, send live
 * traffic with injected incidents through the SDK and the official clients, run detection over
 * the current window and return what it found with the report.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const out = options.progress ?? process.stderr;
  const seed = options.seed ?? 20260101;
  const say = (line: string) => out.write(`${line}\n`);

  // The detection window: the last quarter hour, plus room for the live part.
  const window = { fromMs: started - 15 * 60_000, toMs: started + 3 * 60_000 };

  let local: RunningCollector | undefined;
  let config: LlmwatchConfig | undefined;
  let url = options.collectorUrl;
  let dataDir: string | undefined;
  if (!url) {
    dataDir = resolve(options.dataDir ?? '.llmwatch/demo/data');
    const holder = runningCollectorOf(dataDir);
    if (holder)
      throw new LlmwatchError(
        'unavailable',
        `${dataDir} is in use by the collector at ${holder.url} (pid ${holder.pid}): send the demo to it with --collector ${holder.url}, or pick another --data`,
      );
    rmSync(dataDir, { recursive: true, force: true });
    config = parseConfig({
      server: { port: 0 },
      storage: { dataDir },
      ingest: { flushIntervalMs: 200 },
      // The demo runs detection itself, once, over the whole story.
      detection: { enabled: false },
    });
    local = await startCollector(config, {
      logger: silentLogger,
      drainTimeoutMs: 10_000,
      ...(options.stages ? { stages: options.stages } : {}),
    });
    url = local.url;
    say(`▶ collector started on ${url} (embedded ClickHouse in ${dataDir})`);
  } else {
    const health = await fetch(`${url.replace(/\/$/, '')}/healthz`).catch(() => undefined);
    if (!health?.ok) throw new LlmwatchError('unavailable', `no collector answers at ${url}`);
    say(`▶ using the collector at ${url}`);
  }

  const openaiServer = await startFakeOpenAI();
  const anthropicServer = await startFakeAnthropic();
  try {
    // Calls already stored (a reused collector): the wait below counts only what this run adds.
    const storedBefore = local ? 0 : ((await fetchReport(url, '4d', options.apiKey))?.totals.calls ?? 0);
    let baselineSpans = 0;
    if (options.baseline !== false) {
      const overheadMs = await measureOverheadMs(openaiServer, anthropicServer);
      say(
        `▶ client + HTTP overhead on this machine: ${Math.round(overheadMs)} ms per call (added to the baseline's durations)`,
      );
      say(
        '▶ sending backdated baseline traffic: this hour on 3 previous days + the last 4 hours (OTLP exporter, explicit start times)',
      );
      baselineSpans = await sendBaseline({
        collectorUrl: url,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
        window,
        seed,
        overheadMs,
        onProgress: progressBar(out, 'baseline calls'),
      });
    }

    say(
      '▶ live traffic through @llmwatch/sdk + the official openai and @anthropic-ai/sdk clients, with incidents:',
    );
    for (const incident of Object.values(INCIDENTS)) say(`    · ${incident.description}`);
    initSdk({
      endpoint: url,
      serviceName: 'support-bot',
      capture: 'full',
      scheduledDelayMillis: 200,
      ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    });
    const calls = planLiveTraffic(seed, options.normalCalls ?? 70);
    const live = await sendLiveTraffic(calls, {
      openaiServer,
      anthropicServer,
      onProgress: progressBar(out, 'live calls'),
    });
    await flushSdk();
    const s = sdkStats();
    if (s.spansFailed || s.spansDropped)
      say(`  ! the SDK could not export ${s.spansFailed + s.spansDropped} spans (see collector logs)`);

    // Everything acknowledged must be in storage before detection looks at it.
    const expected = storedBefore + baselineSpans + calls.length;
    if (local) await local.deps.ingest.writer.flush();
    await waitUntil(
      async () => ((await fetchReport(url, '4d', options.apiKey))?.totals.calls ?? 0) >= expected,
      60_000,
      `${expected} calls to be stored`,
    );

    say('▶ running detection over the last 15 minutes (baseline: the previous days)');
    const toMs = Math.min(Date.now() + 1_000, window.toMs);
    const detections = local
      ? await detectRange(
          {
            client: local.deps.clickhouse.query,
            detection: config!.detection,
            recorder: alertRecorder({ client: local.deps.clickhouse.query, alerts: config!.alerts }),
          },
          { fromMs: window.fromMs, toMs },
        )
      : await detectRemote(url, options.apiKey, window.fromMs, toMs);
    // The report covers the detection window (whole minutes, so a little more before it).
    const since = `${Math.ceil((Date.now() - window.fromMs) / 60_000)}m`;
    const report = (await fetchReport(url, since, options.apiKey))!;
    return {
      collectorUrl: url,
      ...(dataDir ? { dataDir } : {}),
      baselineSpans,
      liveCalls: live.calls,
      liveErrors: live.errors,
      detections,
      report,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await shutdownSdk().catch(() => undefined);
    await openaiServer.close();
    await anthropicServer.close();
    await local?.close();
  }
}

async function detectRemote(
  url: string,
  apiKey: string | undefined,
  fromMs: number,
  toMs: number,
): Promise<Detection[]> {
  const request = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() };
  const detections = await fetchDetections(url, request, apiKey);
  if (!detections) throw new LlmwatchError('unavailable', `the collector at ${url} stopped answering`);
  return detections;
}

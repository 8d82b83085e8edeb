import type { Detection } from '../detect/types.js';
import { LlmwatchError } from '../errors.js';
import type { Report } from '../report/build.js';

/** Answers of the connect step that mean "no collector listens there" rather than "it failed". */
const NOTHING_LISTENS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EADDRNOTAVAIL']);

/**
 * The client side of the collector's JSON API (used by the CLI and the demo). `undefined` when
 * nothing listens at `url`, so the caller decides what that means; every other failure is an
 * error that says what to fix.
 */
export async function callCollector<T>(
  url: string,
  path: string,
  options: { apiKey: string | undefined; body?: unknown; timeoutMs: number },
): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/$/, '')}${path}`, {
      method: options.body === undefined ? 'GET' : 'POST',
      headers: {
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code && NOTHING_LISTENS.has(code)) return undefined;
    throw new LlmwatchError('unavailable', `collector at ${url}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (response.status === 401 || response.status === 403)
    throw new LlmwatchError(
      'usage',
      `collector at ${url} refused the key (use --api-key or LLMWATCH_API_KEY)`,
    );
  if (!response.ok) {
    const body = (await response.text().catch(() => '')).slice(0, 300);
    throw new LlmwatchError(
      response.status === 400 ? 'usage' : 'unavailable',
      `collector at ${url}: HTTP ${response.status} ${body}`,
    );
  }
  return (await response.json()) as T;
}

/** `GET /api/report` on a running collector; `undefined` when none listens there. */
export function fetchReport(
  url: string,
  since: string,
  apiKey: string | undefined,
): Promise<Report | undefined> {
  return callCollector<Report>(url, `/api/report?since=${encodeURIComponent(since)}`, {
    apiKey,
    timeoutMs: 30_000,
  });
}

/** `POST /api/detect` on a running collector; `undefined` when none listens there. */
export async function fetchDetections(
  url: string,
  request: { from: number | string; to: number | string; project?: string; dryRun?: boolean },
  apiKey: string | undefined,
): Promise<Detection[] | undefined> {
  const answer = await callCollector<{ detections: Detection[] }>(url, '/api/detect', {
    apiKey,
    body: request,
    // A long backtest is many windows: give it time, the collector works through them in order.
    timeoutMs: 30 * 60_000,
  });
  return answer?.detections;
}

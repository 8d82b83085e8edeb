import type { ApiCall } from '../../src/api/calls.js';
import type { ApiCallDetail, ChatMessage } from '../../src/api/call-detail.js';
import type { CallFilter, CallMeasures, Group, SeriesPoint } from '../../src/api/series.js';
import type { TraceSpan } from '../../src/api/traces.js';
import type { TraceDiagnosis } from '../../src/rag/diagnose.js';
import type { Detection } from '../../src/detect/types.js';
import type { Comparison } from '../../src/compare/compare.js';
import type { DatasetListing } from '../../src/datasets/create.js';

export type {
  ApiCall,
  ApiCallDetail,
  CallFilter,
  CallMeasures,
  ChatMessage,
  Comparison,
  DatasetListing,
  Detection,
  Group,
  SeriesPoint,
  TraceDiagnosis,
  TraceSpan,
};

/** The console reads only the collector's JSON API, with the project key the user gave once. */
const KEY_ITEM = 'llmwatch.projectKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY_ITEM);
}
export function storeKey(key: string): void {
  sessionStorage.setItem(KEY_ITEM, key);
}
export function forgetKey(): void {
  sessionStorage.removeItem(KEY_ITEM);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Listeners told when the API refuses the key (the shell then asks for one). */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export type Query = Record<string, string | number | undefined | null>;

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s ? `?${s}` : '';
}

export function api<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  return request<T>(`api/${path}${queryString(query)}`, {}, signal);
}

/** A POST of JSON to the API (questions with a body, like POST /api/compare). */
export function apiPost<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  return request<T>(
    `api/${path}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    signal,
  );
}

async function request<T>(url: string, init: RequestInit, signal?: AbortSignal): Promise<T> {
  const key = storedKey();
  const res = await fetch(url, {
    ...init,
    headers: {
      ...(init.headers as Record<string, string> | undefined),
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    ...(signal ? { signal } : {}),
  });
  if (res.status === 401) {
    for (const listener of unauthorizedListeners) listener();
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new ApiError(res.status, body?.error?.message ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as T;
}

export interface Overview {
  project: string;
  from: string;
  to: string;
  bucketSeconds: number;
  filter: CallFilter;
  totals: CallMeasures;
  series: SeriesPoint[];
  groups: Partial<Record<'model' | 'prompt' | 'service' | 'provider', Group[]>>;
}

export interface CallsPage {
  calls: ApiCall[];
  total: number;
  nextCursor: string | null;
}

export interface Trace {
  traceId: string;
  startTime: string;
  durationMs: number;
  costUsd: number;
  spans: TraceSpan[];
}

export type AlertListItem = Detection & { firstFiredAt: string; lastNotifiedAt: string | null };

export interface AlertDetail {
  alert: Detection;
  notified: boolean;
  state: {
    status: string;
    severity: string;
    firstFiredAt: string;
    lastFiredAt: string;
    resolvedAt: string | null;
    latestId: string;
  } | null;
  history: {
    id: string;
    status: string;
    severity: string;
    windowTo: string;
    observed: number;
    baseline: number;
  }[];
  chart: {
    metric: keyof CallMeasures;
    filter: CallFilter;
    bucketSeconds: number;
    window: { from: string; to: string };
    points: { time: string; value: number | null; calls: number }[];
  };
}

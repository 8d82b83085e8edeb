import { context, diag, trace } from '@opentelemetry/api';
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { CapturePolicy } from './types.js';

export const SDK_NAME = '@llmwatch/sdk';
export const SDK_VERSION = '0.1.0';

/**
 * Process-wide SDK state, read on every wrapped call. Plain mutable fields (not getters) keep the
 * hot path monomorphic; `init()` replaces them.
 */
export const runtime: { tracer: Tracer; capture: CapturePolicy } = {
  // Before init(): the global (proxy) tracer, so wrapped clients work with an app's own provider.
  tracer: trace.getTracer(SDK_NAME, SDK_VERSION),
  capture: parseCapture(process.env.LLMWATCH_CAPTURE_CONTENT) ?? 'redacted',
};

export function parseCapture(value: string | undefined): CapturePolicy | undefined {
  const v = value?.trim().toLowerCase();
  return v === 'none' || v === 'redacted' || v === 'full' ? v : undefined;
}

let contextManagerChecked = false;
/**
 * Context propagation needs a global context manager; register one only when the app has none
 * (`setGlobalContextManager` refuses to replace an existing one).
 */
export function ensureContextManager(): void {
  if (contextManagerChecked) return;
  contextManagerChecked = true;
  const probe = Symbol('llmwatch.probe');
  const active = context.with(
    context.active().setValue(probe, true),
    () => context.active().getValue(probe) === true,
  );
  if (!active) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

const warned = new Set<string>();
/** Telemetry problems go to `diag`, once per kind: never to the app. */
export function warnOnce(kind: string, error: unknown): void {
  if (warned.has(kind)) return;
  warned.add(kind);
  diag.warn(`llmwatch: ${kind} failed; telemetry for this call may be incomplete`, error);
}

import { context, createContextKey } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { GENAI, GENERAL, LLMWATCH } from '@llmwatch/core';
import { ensureContextManager } from './runtime.js';
import type { LlmwatchContext } from './types.js';

const SCOPE_KEY = createContextKey('llmwatch.scope');

/**
 * Runs `fn` with user/session/conversation/prompt/tags attached: every span the SDK starts
 * inside (LLM calls and `observe()` steps, at any depth, across awaits) carries them.
 * Nested scopes merge; inner values win.
 */
export function withContext<T>(scope: LlmwatchContext, fn: () => T): T {
  ensureContextManager();
  let attributes: Attributes;
  try {
    attributes = { ...scopeAttributes(), ...toAttributes(scope) };
  } catch {
    return fn();
  }
  return context.with(context.active().setValue(SCOPE_KEY, attributes), fn);
}

/** Attributes of the active `withContext()` scope (precomputed once per scope, shared, read-only). */
export function scopeAttributes(): Attributes | undefined {
  return context.active().getValue(SCOPE_KEY) as Attributes | undefined;
}

function toAttributes(scope: LlmwatchContext): Attributes {
  const a: Attributes = {};
  if (scope.userId !== undefined) a[GENERAL.userId] = scope.userId;
  if (scope.sessionId !== undefined) a[GENERAL.sessionId] = scope.sessionId;
  if (scope.conversationId !== undefined) a[GENAI.conversationId] = scope.conversationId;
  if (scope.promptName !== undefined) a[GENAI.promptName] = scope.promptName;
  if (scope.promptVersion !== undefined) a[LLMWATCH.promptVersion] = scope.promptVersion;
  if (scope.tags) for (const [k, v] of Object.entries(scope.tags)) a[LLMWATCH.tagPrefix + k] = String(v);
  return a;
}

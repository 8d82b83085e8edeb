import { GENAI, LLMWATCH, redactText } from '@llmwatch/core';
import type { GenAiMessage, GenAiMessagePart } from '@llmwatch/core';
import type { Span } from '@opentelemetry/api';
import { runtime } from './runtime.js';
import type { Dict } from './internal-types.js';

type Redact = (text: string) => { text: string; findings: readonly unknown[] };

const TEXT_KEYS = ['content', 'arguments', 'response'] as const;

/** Redacts every string a message carries (text, tool arguments, tool results) in place; returns the finding count. */
function redactMessages(messages: readonly GenAiMessage[], redact: Redact): number {
  let count = 0;
  for (const m of messages) {
    for (const p of m.parts) {
      for (const key of TEXT_KEYS) {
        const v = p[key];
        if (typeof v === 'string' && v) {
          const r = redact(v);
          if (r.findings.length) {
            count += r.findings.length;
            p[key] = r.text;
          }
        }
      }
    }
  }
  return count;
}

/**
 * Records content per the capture policy and returns the number of redacted findings. The
 * message arrays are built by the caller from the provider objects (fresh objects, so redaction
 * may rewrite them).
 */
export function recordContent(
  span: Span,
  key: typeof GENAI.inputMessages | typeof GENAI.outputMessages | typeof GENAI.systemInstructions,
  messages: GenAiMessage[] | GenAiMessagePart[] | undefined,
): number {
  if (!messages || messages.length === 0) return 0;
  const policy = runtime.capture;
  if (policy === 'none') return 0;
  let n = 0;
  if (policy === 'redacted') {
    const asMessages =
      key === GENAI.systemInstructions
        ? [{ role: 'system', parts: messages as GenAiMessagePart[] }]
        : (messages as GenAiMessage[]);
    n = redactMessages(asMessages, redactText);
  }
  span.setAttribute(key, JSON.stringify(messages));
  return n;
}

/** One string under the capture policy: undefined when it must not be recorded. */
export function captureText(text: string): string | undefined {
  const policy = runtime.capture;
  if (policy === 'full') return text;
  if (policy === 'none') return undefined;
  return redactText(text).text;
}

/** Sets the redaction summary and content policy once per span. */
export function recordPolicy(span: Span, redacted: number): void {
  const policy = runtime.capture;
  if (policy === 'none') return;
  span.setAttribute(LLMWATCH.contentPolicy, policy);
  if (redacted) span.setAttribute(LLMWATCH.redactedCount, redacted);
}

/** Text of a provider content field: a string, or an array of parts with `text`. */
export function partsOf(content: unknown): GenAiMessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (!Array.isArray(content)) return [];
  const parts: GenAiMessagePart[] = [];
  for (const c of content as Dict[]) {
    if (!c || typeof c !== 'object') continue;
    const type = c.type;
    if (typeof c.text === 'string') parts.push({ type: 'text', content: c.text });
    else if (type === 'tool_use')
      parts.push({
        type: 'tool_call',
        id: c.id as string,
        name: c.name as string,
        arguments: JSON.stringify(c.input ?? {}),
      });
    else if (type === 'tool_result')
      parts.push({ type: 'tool_call_response', id: c.tool_use_id as string, response: stringify(c.content) });
    else if (type === 'image_url' || type === 'image' || type === 'input_image')
      parts.push({ type: 'blob', modality: 'image' });
    else if (type === 'thinking' && typeof c.thinking === 'string')
      parts.push({ type: 'reasoning', content: c.thinking });
  }
  return parts;
}

export function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v))
    return partsOf(v)
      .map((p) => p.content ?? '')
      .join('');
  return JSON.stringify(v ?? null);
}

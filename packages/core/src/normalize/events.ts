import type { LlmCall } from '../llm-call.js';
import type { DecodedSpanEvent } from '../span.js';
import { GENAI, GENAI_OPERATION } from '../semconv.js';
import { normalizeSpan } from './normalize.js';

/** The content fields GenAI events can fill on a call. */
export type EventContent = Pick<LlmCall, 'inputContent' | 'outputContent' | 'systemContent' | 'toolNames'>;

/**
 * The content a span's GenAI events carry when they arrive apart from the span, as OTel log
 * records (`gen_ai.user.message` … `gen_ai.choice`, or one `gen_ai.client.inference.operation.details`
 * event with `gen_ai.input.messages` / `gen_ai.output.messages`). They are read exactly as the
 * same events are read on a span: by normalizing a span that carries only them, so both paths
 * give byte-identical canonical content.
 */
export function contentFromEvents(events: readonly DecodedSpanEvent[]): EventContent {
  const call = normalizeSpan(
    {
      traceId: '',
      spanId: '',
      parentSpanId: '',
      traceState: '',
      name: '',
      kind: 'Client',
      startTimeUnixNano: '0',
      endTimeUnixNano: '0',
      // The minimum that makes it a call; only the content fields of the result are used.
      attributes: { [GENAI.requestModel]: '-', [GENAI.operationName]: GENAI_OPERATION.chat },
      resource: {},
      scopeName: '',
      scopeVersion: '',
      statusCode: 'Unset',
      statusMessage: '',
      events: [...events].sort((a, b) => compareNanos(a.timeUnixNano, b.timeUnixNano)),
      links: [],
    },
    '',
  );
  return {
    inputContent: call?.inputContent ?? '',
    outputContent: call?.outputContent ?? '',
    systemContent: call?.systemContent ?? '',
    toolNames: call?.toolNames ?? [],
  };
}

function compareNanos(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

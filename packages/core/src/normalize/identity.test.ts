import { describe, expect, it } from 'vitest';
import { decodedSpan } from '../../test/decoded-span.js';
import type { Attributes, DecodedSpan } from '../span.js';
import { normalizeSpan } from './normalize.js';

function span(attributes: Attributes): DecodedSpan {
  return decodedSpan({
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    name: 'chat gpt-4o',
    startTimeUnixNano: '1763900000000000000',
    endTimeUnixNano: '1763900001000000000',
    attributes,
    resource: { 'service.name': 'support-bot' },
  });
}

const CALL: Attributes = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.usage.input_tokens': 10,
  'gen_ai.usage.output_tokens': 5,
};

/** Each dialect's own names for prompt name/version, user and session (as their projects write them). */
const IDENTITY_DIALECTS: Record<string, Attributes> = {
  genai: {
    'gen_ai.prompt.name': 'support',
    'gen_ai.prompt.version': '7',
    'user.id': 'u-1',
    'session.id': 's-1',
  },
  openllmetry: {
    'traceloop.prompt.key': 'support',
    'traceloop.prompt.version': 7,
    'traceloop.association.properties.user_id': 'u-1',
    'traceloop.association.properties.session_id': 's-1',
  },
  openinference: {
    'prompt.id': 'support',
    'llm.prompt_template.version': '7',
    'user.id': 'u-1',
    'session.id': 's-1',
  },
  openlit: {
    'gen_ai.prompt.name': 'support',
    'gen_ai.prompt.version': '7',
    'gen_ai.request.user': 'u-1',
    'session.id': 's-1',
  },
  langfuse: {
    'langfuse.observation.prompt.name': 'support',
    'langfuse.observation.prompt.version': 7,
    'langfuse.user.id': 'u-1',
    'langfuse.session.id': 's-1',
  },
  langfuseOlder: {
    'langfuse.prompt.name': 'support',
    'langfuse.prompt.version': 7,
    'user.id': 'u-1',
    'session.id': 's-1',
  },
  vercelAi: {
    'ai.telemetry.metadata.promptName': 'support',
    'ai.telemetry.metadata.promptVersion': '7',
    'ai.telemetry.metadata.userId': 'u-1',
    'ai.telemetry.metadata.sessionId': 's-1',
  },
  vercelAiLangfusePrompt: {
    'ai.telemetry.metadata.langfusePrompt': '{"name":"support","version":7,"isFallback":false}',
    'ai.telemetry.metadata.userId': 'u-1',
    'ai.telemetry.metadata.sessionId': 's-1',
  },
};

describe('prompt and identity aliases', () => {
  it.each(Object.entries(IDENTITY_DIALECTS))('%s: prompt name/version, user and session', (_, attrs) => {
    const call = normalizeSpan(span({ ...CALL, ...attrs }), 'p');
    expect(call).toMatchObject({
      promptName: 'support',
      promptVersion: '7',
      userId: 'u-1',
      sessionId: 's-1',
    });
    // Identity keys are fields, not tags.
    expect(Object.keys(call!.tags)).not.toContain('promptVersion');
    expect(Object.keys(call!.tags)).not.toContain('userId');
  });

  it('gen_ai.prompt.version is not mistaken for an indexed OpenLLMetry prompt message', () => {
    const call = normalizeSpan(span({ ...CALL, 'gen_ai.prompt.version': 'v2' }), 'p')!;
    expect(call.promptVersion).toBe('v2');
    expect(call.inputContent).toBe('');
  });

  it('Langfuse tags and trace/observation metadata become tags', () => {
    const call = normalizeSpan(
      span({
        ...CALL,
        'langfuse.trace.tags': ['beta', 'eu'],
        'langfuse.trace.metadata.team': 'growth',
        'langfuse.observation.metadata.step': 'rerank',
      }),
      'p',
    )!;
    expect(call.tags).toEqual({ beta: '', eu: '', team: 'growth', step: 'rerank' });
  });

  it('configured custom names win over the dialect tables, and tag patterns take a prefix', () => {
    const call = normalizeSpan(
      span({
        ...CALL,
        'gen_ai.prompt.name': 'generic',
        'app.prompt.id': 'checkout',
        'app.prompt.rev': 12,
        'app.customer': 'c-9',
        'app.visit': 'v-3',
        'app.tag.tier': 'gold',
        'app.region': 'eu',
      }),
      'p',
      {
        promptName: ['app.prompt.id'],
        promptVersion: ['app.missing', 'app.prompt.rev'],
        userId: ['app.customer'],
        sessionId: ['app.visit'],
        tags: ['app.tag.*', 'app.region'],
      },
    )!;
    expect(call).toMatchObject({
      promptName: 'checkout',
      promptVersion: '12',
      userId: 'c-9',
      sessionId: 'v-3',
    });
    expect(call.tags).toEqual({ tier: 'gold', 'app.region': 'eu' });
  });
});

import type { DecodedSpan, LlmCall } from '@llmwatch/core';
import { describe, expect, it } from 'vitest';
import { applyPiiPolicy, piiPolicySchema, piiValueHash } from './pii.js';

const EMAIL = 'jane.roe@example.com';
const CARD = '4111 1111 1111 1111';
const KEY = 'sk-proj-Q8fK2mQ9xL4vN7bR1tY6uW3eZ0aS5dF2';

function span(): DecodedSpan {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    parentSpanId: '',
    traceState: '',
    name: 'chat gpt-4o',
    kind: 'Client',
    startTimeUnixNano: '1763890937000000000',
    endTimeUnixNano: '1763890938000000000',
    attributes: {
      'gen_ai.prompt.0.content': `mail ${EMAIL}, card ${CARD}`,
      'gen_ai.completion.0.content': `I will write to ${EMAIL}`,
      'llm.input_messages': [{ content: `key ${KEY}` }],
      'server.address': '10.1.2.3',
      'gen_ai.usage.input_tokens': 12,
    },
    resource: { 'service.name': 'app' },
    scopeName: 'x',
    scopeVersion: '1',
    statusCode: 'Unset',
    statusMessage: '',
    events: [
      {
        name: 'gen_ai.user.message',
        timeUnixNano: '1763890937000000001',
        attributes: { content: `from ${EMAIL}` },
      },
    ],
    links: [],
  };
}

function call(): LlmCall {
  return {
    inputContent: JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: `mail ${EMAIL}, card ${CARD}` }] },
    ]),
    outputContent: JSON.stringify([
      { role: 'assistant', parts: [{ type: 'text', content: `I will write to ${EMAIL}` }] },
    ]),
    systemContent: '',
    userId: EMAIL,
    sessionId: '',
    conversationId: '',
    tags: { team: 'a' },
  } as Partial<LlmCall> as LlmCall;
}

describe('applyPiiPolicy', () => {
  it('keeps an attribute named __proto__, at the top and nested, as data (no prototype of the policed objects changes)', () => {
    // decode.ts keeps such keys in null-prototype objects; a plain {} would take the assignment
    // as a prototype change, dropping the attribute or grafting its keys onto the others.
    const attributes = Object.create(null) as DecodedSpan['attributes'];
    attributes.__proto__ = { injected: `mail ${EMAIL}` };
    attributes['app.settings'] = JSON.parse('{"__proto__": {"nested": "x"}, "plain": "y"}') as never;
    attributes['app.plain'] = 'kept';
    const out = applyPiiPolicy(null, { ...span(), attributes }, { default: 'redact' }, 'k');
    const policed = out.span.attributes;
    expect(Object.keys(policed).sort()).toEqual(['__proto__', 'app.plain', 'app.settings']);
    expect(Object.getOwnPropertyDescriptor(policed, '__proto__')?.value).toEqual({
      injected: 'mail [REDACTED:email]',
    });
    expect('injected' in policed).toBe(false);
    const settings = policed['app.settings'] as Record<string, unknown>;
    expect(Object.keys(settings).sort()).toEqual(['__proto__', 'plain']);
    expect('nested' in settings).toBe(false);
  });

  it('redact replaces values in the call, span attributes (nested) and events, and never mutates', () => {
    const c = call();
    const s = span();
    const before = JSON.stringify([c, s]);
    const out = applyPiiPolicy(c, s, { default: 'redact' }, 'k');
    expect(JSON.stringify([c, s])).toBe(before);
    const stored = JSON.stringify([out.call, out.span]);
    for (const raw of [EMAIL, CARD, KEY]) expect(stored).not.toContain(raw);
    expect(out.span.attributes['gen_ai.prompt.0.content']).toBe(
      'mail [REDACTED:email], card [REDACTED:credit_card]',
    );
    expect(out.span.attributes['llm.input_messages']).toEqual([{ content: 'key [REDACTED:secret]' }]);
    expect(out.span.attributes['server.address']).toBe('10.1.2.3');
    expect(out.span.events[0]!.attributes.content).toBe('from [REDACTED:email]');
    expect(out.call?.userId).toBe('[REDACTED:email]');
    const email = piiValueHash('k', 'email', EMAIL);
    expect(email).toMatch(/^[0-9a-f]{32}$/);
    const rows = out.findings
      .map((f) => `${f.type}/${f.place}/${f.action}/${f.count}/${f.valueHash === email}`)
      .sort();
    expect(rows).toEqual([
      'credit_card/input/redact/1/false',
      'email/input/redact/2/true',
      'email/output/redact/1/true',
      'secret/input/redact/1/false',
    ]);
  });

  it('returns the call and span themselves when nothing is found: no copy per clean span', () => {
    const c = { ...call(), inputContent: 'hello', outputContent: 'hi', userId: 'u-1' };
    const s = {
      ...span(),
      attributes: {
        'gen_ai.prompt.0.content': 'hello',
        list: ['a', 'b', Number.NaN],
        nested: { k: 'v', n: Number.NaN },
        ratio: Number.NaN,
      },
      events: [{ name: 'gen_ai.user.message', timeUnixNano: '1', attributes: { content: 'hello' } }],
    };
    const out = applyPiiPolicy(c, s, { default: 'redact' }, 'k');
    expect(out.call).toBe(c);
    expect(out.span).toBe(s);
    expect(out.findings).toEqual([]);
  });

  it('copies only what a finding changed, keeping the order of attributes, tags, events and links', () => {
    const s: DecodedSpan = {
      ...span(),
      attributes: {
        first: 'clean',
        'app.list': ['clean', `to ${EMAIL}`, 'after'],
        'app.note': `to ${EMAIL}`,
        last: 'clean too',
      },
      events: [
        { name: 'e0', timeUnixNano: '1', attributes: { a: 'clean' } },
        { name: 'e1', timeUnixNano: '2', attributes: { a: 'clean', b: `card ${CARD}`, c: 'after' } },
      ],
      links: [
        { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceState: '', attributes: { l: 'clean' } },
      ],
    };
    const c = { ...call(), userId: 'u-1', tags: { team: 'a', owner: EMAIL, card: CARD, tier: 'gold' } };
    const out = applyPiiPolicy(c, s, { default: 'redact', perType: { credit_card: 'drop' } }, 'k');
    expect(Object.keys(out.span.attributes)).toEqual(['first', 'app.list', 'app.note', 'last']);
    expect(out.span.attributes['app.list']).toEqual(['clean', 'to [REDACTED:email]', 'after']);
    expect(out.span.events[0]).toBe(s.events[0]);
    expect(Object.entries(out.span.events[1]!.attributes)).toEqual([
      ['a', 'clean'],
      ['c', 'after'],
    ]);
    expect(out.span.links).toBe(s.links);
    // A dropped tag goes; the others keep their order.
    expect(Object.entries(out.call!.tags)).toEqual([
      ['team', 'a'],
      ['owner', '[REDACTED:email]'],
      ['tier', 'gold'],
    ]);
    expect(out.call!.userId).toBe('u-1');
  });

  it('drop removes whole fields/attributes of that type; detect only reports', () => {
    const out = applyPiiPolicy(call(), span(), { default: 'detect', perType: { credit_card: 'drop' } }, 'k');
    expect(out.call?.inputContent).toBe('');
    expect(out.call?.outputContent).toContain(EMAIL);
    expect(out.span.attributes['gen_ai.prompt.0.content']).toBeUndefined();
    expect(out.span.attributes['gen_ai.completion.0.content']).toBe(`I will write to ${EMAIL}`);
    expect(out.findings.find((f) => f.type === 'credit_card')?.action).toBe('drop');
  });

  it('keys the value hash: same value same hash, other key other hash, normalized', () => {
    expect(piiValueHash('k', 'email', 'A@B.com')).toBe(piiValueHash('k', 'email', 'a@b.com'));
    expect(piiValueHash('k', 'credit_card', CARD)).toBe(
      piiValueHash('k', 'credit_card', CARD.replace(/ /g, '-')),
    );
    expect(piiValueHash('k2', 'email', 'a@b.com')).not.toBe(piiValueHash('k', 'email', 'a@b.com'));
  });

  it('span names and link attributes are policed too', () => {
    const s = span();
    s.name = `GET /users/${EMAIL}`;
    s.links = [
      {
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
        traceState: '',
        attributes: { note: `for ${EMAIL}` },
      },
    ];
    const out = applyPiiPolicy(null, s, { default: 'redact' }, 'k');
    expect(out.span.name).toBe('GET /users/[REDACTED:email]');
    expect(out.span.links[0]!.attributes.note).toBe('for [REDACTED:email]');
  });

  it('custom secret patterns from the config are applied; non-LLM spans are policed too', () => {
    const s = span();
    s.attributes = { 'input.value': 'ticket ACME-TOKEN-1234567890' };
    const out = applyPiiPolicy(
      null,
      s,
      { default: 'redact', customSecretPatterns: ['ACME-TOKEN-\\d{10}'] },
      'k',
    );
    expect(out.call).toBeNull();
    expect(out.span.attributes['input.value']).toBe('ticket [REDACTED:secret]');
  });

  it('config schema: safe defaults and a bad regex is a config error', () => {
    expect(piiPolicySchema.parse(undefined)).toEqual({
      default: 'redact',
      perType: {},
      customSecretPatterns: [],
    });
    expect(piiPolicySchema.safeParse({ customSecretPatterns: ['('] }).success).toBe(false);
    expect(piiPolicySchema.safeParse({ perType: { phone: 'hide' } }).success).toBe(false);
  });
});

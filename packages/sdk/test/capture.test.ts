import { priceCall } from '@llmwatch/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { observe } from '../src/index.js';
import { runtime } from '../src/runtime.js';
import { fakeOpenAI, onlySpan, setupSdk } from './harness.js';

const exporter = setupSdk('redacted');
const openai = fakeOpenAI();
beforeEach(() => {
  exporter.reset();
  runtime.capture = 'redacted';
});

const secretPrompt = 'Email jane.doe@example.com about card 4111 1111 1111 1111, thanks';

describe('capture policy', () => {
  it('redacted (default): PII never leaves the process, in input and output; the caller still gets raw text', async () => {
    openai.fake.script({ content: 'Sure, I will write to jane.doe@example.com today.' });
    const res = await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: secretPrompt }],
    });
    expect(res.choices[0]?.message.content).toBe('Sure, I will write to jane.doe@example.com today.');
    const span = onlySpan(exporter);
    const input = span.attributes['gen_ai.input.messages'] as string;
    const output = span.attributes['gen_ai.output.messages'] as string;
    expect(JSON.parse(input)[0].parts[0].content).toBe(
      'Email [REDACTED:email] about card [REDACTED:credit_card], thanks',
    );
    expect(JSON.parse(output)[0].parts[0].content).toBe('Sure, I will write to [REDACTED:email] today.');
    expect(JSON.stringify(span.attributes)).not.toContain('jane.doe');
    expect(JSON.stringify(span.attributes)).not.toContain('4111');
    expect(span.attributes['llmwatch.redacted.count']).toBe(3);
    expect(span.attributes['llmwatch.content.policy']).toBe('redacted');
  });

  it('redacted: streamed output is redacted too', async () => {
    openai.fake.script({ content: 'Call me at jane.doe@example.com' });
    const stream = await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('Call me at jane.doe@example.com');
    expect(onlySpan(exporter).attributes['gen_ai.output.messages']).toBe(
      JSON.stringify([
        {
          role: 'assistant',
          parts: [{ type: 'text', content: 'Call me at [REDACTED:email]' }],
          finish_reason: 'stop',
        },
      ]),
    );
  });

  it('redacted: retrieval query text is redacted', () => {
    observe('search', (step) => step.recordQuery('orders of jane.doe@example.com'), { kind: 'retrieval' });
    expect(onlySpan(exporter).attributes['gen_ai.retrieval.query.text']).toBe('orders of [REDACTED:email]');
  });

  it('redacted: retrieved document text is redacted, and dropped with capture none', () => {
    observe(
      'search',
      (step) => step.recordDocuments([{ id: 'kb-1', content: 'Escalate to ann@corp.example' }]),
      {
        kind: 'retrieval',
      },
    );
    expect(JSON.parse(onlySpan(exporter).attributes['gen_ai.retrieval.documents'] as string)).toEqual([
      { id: 'kb-1', content: 'Escalate to [REDACTED:email]' },
    ]);
    exporter.reset();
    runtime.capture = 'none';
    observe('search', (step) => step.recordDocuments([{ id: 'kb-1', score: 0.5, content: 'secret text' }]), {
      kind: 'retrieval',
    });
    expect(JSON.parse(onlySpan(exporter).attributes['gen_ai.retrieval.documents'] as string)).toEqual([
      { id: 'kb-1', score: 0.5 },
    ]);
  });

  it('none: no content attributes at all, metadata still exact', async () => {
    runtime.capture = 'none';
    openai.fake.script({ content: 'x', usage: { inputTokens: 10, outputTokens: 2 } });
    await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 's' },
        { role: 'user', content: secretPrompt },
      ],
    });
    const span = onlySpan(exporter);
    expect(
      Object.keys(span.attributes).filter(
        (k) => k.includes('messages') || k.includes('instructions') || k.startsWith('llmwatch.content'),
      ),
    ).toEqual([]);
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(10);
  });

  it('cost: priced with core priceCall for a known model; unknown model gets no cost (never 0)', async () => {
    openai.fake.script(
      { usage: { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 200 } },
      { usage: { inputTokens: 5, outputTokens: 5 } },
    );
    await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'q' }],
    });
    await openai.client.chat.completions.create({
      model: 'no-such-model-xyz',
      messages: [{ role: 'user', content: 'q' }],
    });
    const [known, unknown] = exporter.getFinishedSpans();
    const expected = priceCall({
      provider: 'openai',
      model: 'gpt-4o-mini',
      inputTokens: 1000,
      outputTokens: 500,
      cacheReadTokens: 200,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(expected.costUsd).toBeGreaterThan(0);
    expect(known?.attributes['llmwatch.cost.usd']).toBe(expected.costUsd);
    expect(known?.attributes['llmwatch.cost.price_version']).toBe(expected.priceVersion);
    expect(unknown?.attributes['llmwatch.cost.usd']).toBeUndefined();
  });
});

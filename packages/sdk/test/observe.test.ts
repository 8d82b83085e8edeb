import { SpanStatusCode, trace } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { observe, withContext } from '../src/index.js';
import { fakeOpenAI, setupSdk } from './harness.js';

const exporter = setupSdk('full');
const openai = fakeOpenAI();
beforeEach(() => exporter.reset());

const byName = () => new Map(exporter.getFinishedSpans().map((s) => [s.name, s]));

describe('observe()', () => {
  it('nests steps and LLM calls along the active context, across awaits', async () => {
    const answer = await observe(
      'support-agent',
      async () => {
        const docs = await observe(
          'kb-search',
          async (step) => {
            await new Promise((r) => setTimeout(r, 1));
            step.recordQuery('reset password');
            step.recordDocuments([
              { id: 'doc-7', score: 0.91 },
              { id: 'doc-3', score: 0.42 },
              { id: 'doc-9', content: 'Reset it from the login page.' },
            ]);
            return ['doc-7'];
          },
          { kind: 'retrieval' },
        );
        const tool = observe('lookup_user', () => 42, { kind: 'tool', attributes: { 'app.custom': 'x' } });
        const res = await openai.client.chat.completions.create({
          model: 'gpt-4o',
          messages: [{ role: 'user', content: docs.join() }],
        });
        return `${res.choices[0]?.message.content} ${tool}`;
      },
      { kind: 'agent' },
    );
    expect(answer).toBe('This is a deterministic reply from the fake server. 42');
    const spans = byName();
    const agent = spans.get('invoke_agent support-agent')!;
    const retrieval = spans.get('retrieval kb-search')!;
    const tool = spans.get('execute_tool lookup_user')!;
    const llm = spans.get('chat gpt-4o')!;
    expect(agent.parentSpanContext).toBeUndefined();
    for (const child of [retrieval, tool, llm]) {
      expect(child.parentSpanContext?.spanId).toBe(agent.spanContext().spanId);
      expect(child.spanContext().traceId).toBe(agent.spanContext().traceId);
    }
    expect(agent.attributes).toMatchObject({
      'llmwatch.span.kind': 'agent',
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'support-agent',
    });
    expect(tool.attributes).toMatchObject({
      'llmwatch.span.kind': 'tool',
      'gen_ai.tool.name': 'lookup_user',
      'app.custom': 'x',
    });
    expect(JSON.parse(retrieval.attributes['gen_ai.retrieval.documents'] as string)).toEqual([
      { id: 'doc-7', score: 0.91 },
      { id: 'doc-3', score: 0.42 },
      { id: 'doc-9', content: 'Reset it from the login page.' },
    ]);
    expect(retrieval.attributes['gen_ai.retrieval.query.text']).toBe('reset password');
  });

  it('records errors and rethrows the same error object (sync and async)', async () => {
    const boom = new TypeError('boom');
    expect(() =>
      observe('sync-step', () => {
        throw boom;
      }),
    ).toThrow(boom);
    const rejected = observe('async-step', async () => {
      throw boom;
    });
    await expect(rejected).rejects.toBe(boom);
    const spans = byName();
    for (const name of ['sync-step', 'async-step']) {
      expect(spans.get(name)?.status.code).toBe(SpanStatusCode.ERROR);
      expect(spans.get(name)?.attributes['error.type']).toBe('TypeError');
    }
  });

  it('returns the same promise object and the same sync value', () => {
    const p = Promise.resolve(1);
    expect(observe('p', () => p)).toBe(p);
    const obj = { a: 1 };
    expect(observe('o', () => obj)).toBe(obj);
  });

  it('the step span is the active span inside fn', () => {
    const inner = observe('outer', () => trace.getActiveSpan()?.spanContext().spanId);
    expect(inner).toBe(byName().get('outer')?.spanContext().spanId);
  });
});

describe('withContext()', () => {
  it('attaches user, session, conversation, prompt and tags to every span inside, nested scopes merge', async () => {
    await withContext(
      { userId: 'u-1', sessionId: 's-1', promptName: 'support', promptVersion: 'v3', tags: { team: 'care' } },
      async () => {
        await observe('step', async () => {
          await withContext({ conversationId: 'c-9', tags: { tier: 'gold' } }, () =>
            openai.client.chat.completions.create({
              model: 'gpt-4o',
              messages: [{ role: 'user', content: 'hi' }],
            }),
          );
        });
      },
    );
    await openai.client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'outside' }],
    });
    const spans = byName();
    expect(spans.get('step')?.attributes).toMatchObject({
      'user.id': 'u-1',
      'session.id': 's-1',
      'gen_ai.prompt.name': 'support',
      'llmwatch.prompt.version': 'v3',
      'llmwatch.tag.team': 'care',
    });
    expect(spans.get('chat gpt-4o')?.attributes).toMatchObject({
      'user.id': 'u-1',
      'session.id': 's-1',
      'gen_ai.conversation.id': 'c-9',
      'gen_ai.prompt.name': 'support',
      'llmwatch.prompt.version': 'v3',
      'llmwatch.tag.team': 'care',
      'llmwatch.tag.tier': 'gold',
    });
    expect(spans.get('chat gpt-4o-mini')?.attributes['user.id']).toBeUndefined();
  });

  it('returns what fn returns', () => {
    expect(withContext({ userId: 'x' }, () => 5)).toBe(5);
  });
});

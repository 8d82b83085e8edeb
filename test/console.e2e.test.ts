import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall } from '@llmwatch/collector';
import { FAKE_REPLY_HEADER, startFakeOpenAI, type FakeReply, type FakeServer } from '@llmwatch/fake-llm';
import { flush, init, observe, shutdown, withContext, wrapOpenAI } from '@llmwatch/sdk';
import { startE2eCollector, type E2eCollector } from './helpers/collector.js';

/**
 * The web console in a real browser (Debian's chromium driven by playwright-core): a collector
 * with two projects, realistic traffic through the SDK and the official client against the fake
 * OpenAI server (a support bot, an agent trace with retrieval and a tool call, rate limits, and an
 * incident: customers paste card numbers, which reach the provider), detection over it, then
 * every page checked against the JSON API. Screenshots of each page in light and dark go to
 * test/artifacts/ for a reviewer.
 */
const CHROMIUM = process.env.LLMWATCH_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
const KEYS = { shop: 'shop-console-key-1', other: 'other-console-key-2' } as const;
const QUESTIONS = [
  'How do I rotate my API key without downtime?',
  'Why was my invoice higher this month?',
  'Can I move a project to another region?',
  'How do I add a teammate with read-only access?',
];
const CARD_QUESTION = 'Please charge my card 4111 1111 1111 1111 for the upgrade.';

interface Aggregates {
  calls: number;
  errors: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  all: ApiCall[];
}

describe('web console in chromium', () => {
  let e2e: E2eCollector;
  let fake: FakeServer;
  let context: BrowserContext;
  let profileDir: string;
  let url: string;
  let agentTraceId: string;
  /** One tab with the shop key, shared by the tests that read project shop (a key is asked once per tab). */
  let shop: Page;
  const startedMs = Date.now();

  const apiGet = async <T>(path: string, key: string): Promise<T> => {
    const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  /** Every call of [from, to) through /api/calls, page by page, summed. */
  const aggregate = async (key: string, from: string, to: string): Promise<Aggregates> => {
    const all: ApiCall[] = [];
    let cursor: string | null = null;
    do {
      const page: { calls: ApiCall[]; nextCursor: string | null } = await apiGet(
        `/api/calls?from=${from}&to=${to}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        key,
      );
      all.push(...page.calls);
      cursor = page.nextCursor;
    } while (cursor);
    return {
      calls: all.length,
      errors: all.filter((c) => c.status === 'error').length,
      costUsd: all.reduce((n, c) => n + (c.costUsd ?? 0), 0),
      inputTokens: all.reduce((n, c) => n + (c.inputTokens ?? 0), 0),
      outputTokens: all.reduce((n, c) => n + (c.outputTokens ?? 0), 0),
      all,
    };
  };

  const waitForStored = async (key: string, count: number): Promise<void> => {
    const deadline = Date.now() + 20_000;
    const from = new Date(startedMs - 60_000).toISOString();
    while ((await apiGet<{ total: number }>(`/api/calls?from=${from}&limit=1`, key)).total < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} calls stored after 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /** A fresh tab: its own sessionStorage, so it asks for a key again. */
  const openWithKey = async (key: string): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.getByTestId('key-form').waitFor();
    await page.getByLabel('Key', { exact: true }).fill(key);
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByTestId('kpi-calls').waitFor();
    return page;
  };

  /** Light and dark screenshots of the page as it is now (the toggle flips and restores the theme). */
  const screenshots = async (page: Page, name: string): Promise<void> => {
    for (const theme of ['light', 'dark'] as const) {
      if ((await page.locator('html').getAttribute('data-theme')) !== theme)
        await page.getByTestId('theme-toggle').click();
      await page.locator(`html[data-theme="${theme}"]`).waitFor({ state: 'attached' });
      await page.screenshot({ path: join(ARTIFACTS, `console-${name}-${theme}.png`), fullPage: true });
    }
    await page.getByTestId('theme-toggle').click();
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    e2e = await startE2eCollector('console', {
      projects: [
        { id: 'shop', keys: [KEYS.shop] },
        { id: 'other', keys: [KEYS.other] },
      ],
      // The test runs detection itself, once, over the traffic it sent.
      detection: { enabled: false },
    });
    url = e2e.collector.url;
    fake = await startFakeOpenAI();
    const client = wrapOpenAI(new OpenAI({ baseURL: fake.url, apiKey: 'test', maxRetries: 0 }));
    const ask = (model: string, question: string, reply: FakeReply, stream = false) =>
      stream
        ? client.chat.completions
            .create(
              {
                model,
                stream: true,
                stream_options: { include_usage: true },
                messages: [
                  { role: 'system', content: 'You are the support agent of Acme Cloud. Answer briefly.' },
                  { role: 'user', content: question },
                ],
              },
              { headers: { [FAKE_REPLY_HEADER]: JSON.stringify(reply) } },
            )
            .then(async (s) => {
              for await (const _chunk of s);
            })
        : client.chat.completions.create(
            {
              model,
              messages: [
                { role: 'system', content: 'You are the support agent of Acme Cloud. Answer briefly.' },
                { role: 'user', content: question },
              ],
            },
            { headers: { [FAKE_REPLY_HEADER]: JSON.stringify(reply) } },
          );

    // Project "shop": a support bot, some rate limits, the card incident and one agent run.
    init({
      endpoint: url,
      apiKey: KEYS.shop,
      serviceName: 'support-bot',
      capture: 'full',
      scheduledDelayMillis: 50,
    });
    for (let i = 0; i < 24; i++) {
      const model = i % 3 === 0 ? 'gpt-4o' : 'gpt-4o-mini';
      await withContext(
        {
          userId: `user-${i % 5}`,
          sessionId: `sess-${i % 7}`,
          promptName: 'answer',
          promptVersion: i < 12 ? '3' : '4',
        },
        () =>
          ask(
            model,
            QUESTIONS[i % QUESTIONS.length]!,
            {
              content: `Here is how: step ${i}. See the docs.`,
              usage: { inputTokens: 300 + i * 10, outputTokens: 40 + i },
              ttftMs: 5 + (i % 4) * 5,
            },
            i % 2 === 1,
          ),
      );
    }
    for (let i = 0; i < 4; i++) {
      await withContext({ userId: 'user-9', promptName: 'answer', promptVersion: '4' }, () =>
        ask('gpt-4o-mini', QUESTIONS[0]!, { error: { status: 429, message: 'Rate limit reached' } }),
      ).catch(() => undefined);
    }
    for (let i = 0; i < 3; i++) {
      await withContext({ userId: `payer-${i}`, promptName: 'billing', promptVersion: '1' }, () =>
        ask('gpt-4o-mini', CARD_QUESTION, {
          content: 'Your upgrade is scheduled.',
          usage: { inputTokens: 50, outputTokens: 8 },
        }),
      );
    }
    await withContext(
      { userId: 'user-1', sessionId: 'sess-agent', promptName: 'agent', promptVersion: '1' },
      () =>
        observe(
          'answer-question',
          async () => {
            await observe('search-docs', async () => 'docs', { kind: 'retrieval' });
            await ask('gpt-4o', 'Which plan includes SSO?', {
              toolCalls: [{ name: 'lookup_plan', arguments: '{"feature":"sso"}' }],
              usage: { inputTokens: 120, outputTokens: 20 },
            });
            await ask('gpt-4o', 'Which plan includes SSO? (with the tool result)', {
              content: 'SSO is part of the Business plan.',
              usage: { inputTokens: 160, outputTokens: 12 },
            });
          },
          { kind: 'agent' },
        ),
    );
    await flush();
    await shutdown();

    // Project "other": a few calls of its own, never to be seen with the shop key.
    init({
      endpoint: url,
      apiKey: KEYS.other,
      serviceName: 'other-bot',
      capture: 'full',
      scheduledDelayMillis: 50,
    });
    for (let i = 0; i < 5; i++)
      await withContext({ userId: 'other-user' }, () =>
        ask('gpt-4.1-mini', 'Other project question', {
          content: 'Other answer',
          usage: { inputTokens: 10, outputTokens: 5 },
        }),
      );
    await flush();
    await shutdown();

    await waitForStored(KEYS.shop, 33);
    await waitForStored(KEYS.other, 5);
    const agent = await apiGet<{ calls: ApiCall[] }>(
      `/api/calls?promptName=agent&from=${new Date(startedMs - 60_000).toISOString()}`,
      KEYS.shop,
    );
    agentTraceId = agent.calls[0]!.traceId;

    const detect = await fetch(`${url}/api/detect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.shop}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: new Date(startedMs - 10 * 60_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      }),
    });
    expect(detect.status).toBe(200);

    profileDir = mkdtempSync(join(tmpdir(), 'llmwatch-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 860 },
      colorScheme: 'light',
    });
  });

  afterAll(async () => {
    await context?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
    await shutdown();
    await fake?.close();
    await e2e?.close();
  });

  it('overview: asks for the key once, and its numbers equal the /api/calls aggregates', async () => {
    shop = await openWithKey(KEYS.shop);
    const page = shop;
    expect(await page.getByTestId('project').textContent()).toBe('shop');
    const link = new URL(
      (await page.getByTestId('view-calls').getAttribute('href'))!.replace('#/', '/'),
      url,
    );
    const agg = await aggregate(KEYS.shop, link.searchParams.get('from')!, link.searchParams.get('to')!);
    expect(agg.calls).toBe(33);
    const kpi = async (id: string) => ({
      text: (await page.getByTestId(id).locator('.kpi-value').textContent())!,
      value: Number(await page.getByTestId(id).getAttribute('data-value')),
    });
    expect(await kpi('kpi-calls')).toEqual({ text: '33', value: agg.calls });
    expect((await kpi('kpi-errors')).value).toBe(agg.errors);
    expect(agg.errors).toBe(4);
    expect((await kpi('kpi-tokens')).value).toBe(agg.inputTokens + agg.outputTokens);
    expect((await kpi('kpi-cost')).value).toBeCloseTo(agg.costUsd, 9);
    expect((await kpi('kpi-pii')).value).toBe(agg.all.filter((c) => c.piiTypes.length > 0).length);
    // Groups add up to the same calls, and only this project's models appear.
    const models = await page.getByTestId('by-model').locator('tbody th').allTextContents();
    expect(models.sort()).toEqual([...new Set(agg.all.map((c) => c.model))].sort());
    await page.getByTestId('open-alerts').locator('li').first().waitFor();
    await screenshots(page, 'overview');

    // The key stays for the tab: a reload does not ask again.
    await page.reload();
    await page.getByTestId('kpi-calls').waitFor();
    expect(await page.getByTestId('key-form').count()).toBe(0);
  });

  it('calls: the list filters, and a call shows its messages as a chat with tokens and redacted PII', async () => {
    const page = shop;
    await page.goto(`${url}/#/calls?range=1h`);
    await page.getByTestId('calls-table').waitFor();
    expect(await page.getByTestId('calls-total').textContent()).toBe('33 calls match');
    await page.getByLabel('Status').selectOption('error');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('4 calls match').waitFor();
    await page.getByLabel('Search content').fill('REDACTED');
    await page.getByLabel('Status').selectOption('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('3 calls match').waitFor();
    await screenshots(page, 'calls');

    await page.getByTestId('calls-table').locator('tbody tr a').first().click();
    await page.getByTestId('chat').waitFor();
    const roles = await page
      .getByTestId('message')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-role')));
    expect(roles).toEqual(['system', 'user', 'assistant']);
    const user = (await page.getByTestId('message').nth(1).textContent())!;
    expect(user).toContain('Please charge my card');
    expect(user).not.toContain('4111');
    expect(await page.getByTestId('input-tokens').textContent()).toBe('50');
    expect(await page.getByTestId('output-tokens').textContent()).toBe('8');
    expect(await page.getByTestId('pii-findings').textContent()).toContain('credit_card');
    await screenshots(page, 'call');

    // A tool call renders as one.
    const agentCalls = await apiGet<{ calls: ApiCall[] }>(
      `/api/calls?promptName=agent&from=${new Date(startedMs - 60_000).toISOString()}`,
      KEYS.shop,
    );
    const withTool = agentCalls.calls.find((c) => c.finishReasons.some((r) => r.startsWith('tool')))!;
    await page.goto(`${url}/#/calls/${withTool.traceId}/${withTool.spanId}`);
    await page.getByTestId('tool-call').waitFor();
    expect(await page.getByTestId('tool-call').textContent()).toContain('lookup_plan');
  });

  it('trace: the waterfall has one row per step of the agent run, with cost', async () => {
    const page = shop;
    await page.goto(`${url}/#/traces/${agentTraceId}`);
    await page.getByTestId('waterfall').waitFor();
    // answer-question → search-docs, chat gpt-4o (tool call), chat gpt-4o (answer)
    expect(await page.getByTestId('waterfall-row').count()).toBe(4);
    expect(await page.getByTestId('span-count').textContent()).toBe('4');
    const rows = await page.getByTestId('waterfall-row').allTextContents();
    expect(rows[0]).toContain('answer-question');
    expect(rows.filter((r) => r.includes('call →'))).toHaveLength(2);
    await page.getByTestId('waterfall-row').nth(2).getByRole('button').click();
    await screenshots(page, 'trace');
  });

  it("alerts: the PII incident is listed and its detail shows the detector's evidence and a chart", async () => {
    const page = shop;
    await page.goto(`${url}/#/alerts`);
    await page.getByTestId('alerts-table').waitFor();
    await screenshots(page, 'alerts');
    await page
      .getByTestId('alerts-table')
      .locator('tr', { hasText: 'pii_leak' })
      .getByRole('link')
      .first()
      .click();
    await page.getByTestId('evidence').waitFor();
    const evidence = (await page.getByTestId('evidence').textContent())!;
    expect(evidence).toContain('credit_card');
    expect(await page.getByTestId('evidence-example').count()).toBeGreaterThan(0);
    await page.getByTestId('alert-chart').locator('svg').waitFor();
    await screenshots(page, 'alert');
  });

  it('compare and datasets: the comparison of two prompt versions and the dataset list', async () => {
    const page = shop;
    await page.goto(`${url}/#/compare?aPrompt=answer&aVersion=3&bPrompt=answer&bVersion=4&range=1h`);
    await page.getByTestId('compare-table').waitFor();
    // 12 calls on v3; v4 has 12 answered calls and the 4 rate-limited ones.
    expect(await page.getByTestId('comparison').textContent()).toContain('12 calls in A, 16 in B');
    const metrics = await page.getByTestId('compare-table').locator('tbody tr').allTextContents();
    expect(metrics.some((m) => m.startsWith('error_ratio'))).toBe(true);
    expect((await page.getByTestId('compare-summary').textContent())!.length).toBeGreaterThan(0);
    await screenshots(page, 'compare');

    const res = await fetch(`${url}/api/datasets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.shop}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'answers-v3',
        filters: {
          from: startedMs - 60_000,
          to: Date.now() + 60_000,
          promptName: 'answer',
          promptVersion: '3',
        },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await page.goto(`${url}/#/datasets`);
    const row = page.getByTestId('datasets-table').locator('tr', { hasText: 'answers-v3' });
    await row.waitFor();
    expect(await row.textContent()).toContain('v1');
    await screenshots(page, 'datasets');
  });

  it("a project key only ever shows that project's data", async () => {
    const page = await openWithKey(KEYS.other);
    expect(await page.getByTestId('project').textContent()).toBe('other');
    expect(await page.getByTestId('kpi-calls').getAttribute('data-value')).toBe('5');
    expect(await page.getByTestId('by-model').locator('tbody th').allTextContents()).toEqual([
      'gpt-4.1-mini',
    ]);
    expect(await page.getByTestId('open-alerts').textContent()).toContain('No alert is firing');
    await page.goto(`${url}/#/calls?range=1h`);
    await page.getByTestId('calls-table').waitFor();
    const users = await page.getByTestId('calls-table').locator('tbody tr td:nth-child(4)').allTextContents();
    expect(new Set(users)).toEqual(new Set(['other-user']));
    // The shop's trace is not found with this key, however the URL was obtained.
    await page.goto(`${url}/#/traces/${agentTraceId}`);
    await page.getByText(/Could not load the trace: no trace/).waitFor();
    // A wrong key is refused and the key is asked for again.
    await page.evaluate("sessionStorage.setItem('llmwatch.projectKey', 'not-a-key-at-all')");
    await page.goto(`${url}/#/`);
    await page.getByText('The collector refused that key.').waitFor();
    expect(await page.evaluate("sessionStorage.getItem('llmwatch.projectKey')")).toBeNull();
    await page.close();
  });
});

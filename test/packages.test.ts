import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeOpenAI, type FakeServer } from '@llmwatch/fake-llm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiCall } from '@llmwatch/collector';

/**
 * The packages as a user gets them: `pnpm pack` of core, sdk and collector (each builds on
 * prepack), installed with npm into an app outside the workspace, next to `openai` and the
 * OpenTelemetry NodeSDK 2.x. The collector runs from that install's `llmwatch` bin; the apps
 * call the fake OpenAI server through the official client. One install serves every case (the
 * collector tarball pulls ~550 MB of embedded ClickHouse; npm's cache makes later runs fast).
 */
const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'llmwatch-packages-'));
const packs = join(work, 'packs');
const app = join(work, 'app');
const bin = (name: string) => join(root, 'node_modules/.bin', name);
const workspaceRange = (pkg: string, dep: string): string => {
  const manifest = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  return manifest.devDependencies[dep]!;
};
/** The app's OpenTelemetry SDK: the NodeSDK of OpenTelemetry JS 2.x. */
const NODE_SDK = '@opentelemetry/sdk-node@0.223.0';

interface Run {
  code: number | null;
  out: string;
}
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
async function ok(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(command, args, { cwd, timeoutMs: 900_000, ...(env ? { env } : {}) });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.out}`);
  return r.out;
}

/** The README's "Instrument your app" snippet, exactly as written there. */
function readmeSnippet(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Instrument your app'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README: no ts snippet under "Instrument your app"');
  return match[1]!;
}

let collector: ChildProcess | undefined;
let collectorUrl = '';
let fake: FakeServer;
let appEnv: NodeJS.ProcessEnv;

async function calls(): Promise<ApiCall[]> {
  const res = await fetch(`${collectorUrl}/api/calls?limit=100`);
  return ((await res.json()) as { calls: ApiCall[] }).calls;
}
async function callOf(service: string): Promise<ApiCall> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = (await calls()).find((c) => c.service === service);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no call from ${service} in ${collectorUrl}/api/calls`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  mkdirSync(packs);
  for (const pkg of ['packages/core', 'packages/sdk', 'collector'])
    await ok('pnpm', ['pack', '--pack-destination', packs], join(root, pkg));
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
  const tarballs = readdirSync(packs).map((f) => join(packs, f));
  await ok(
    'npm',
    [
      'install',
      '--engine-strict',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...tarballs,
      `openai@${workspaceRange('packages/sdk', 'openai')}`,
      NODE_SDK,
    ],
    app,
  );

  fake = await startFakeOpenAI();
  const config = join(work, 'llmwatch.config.yaml');
  writeFileSync(config, 'ingest:\n  flushIntervalMs: 50\n');
  collector = spawn(
    join(app, 'node_modules/.bin/llmwatch'),
    ['start', '--port', '0', '--data', join(work, 'data'), '--config', config],
    { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  collectorUrl = await new Promise<string>((resolve, reject) => {
    const seen = (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    collector!.stdout!.on('data', seen);
    collector!.stderr!.on('data', seen);
    collector!.once('exit', (code) => reject(new Error(`llmwatch start exited ${code}:\n${out}`)));
  });
  appEnv = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', LLMWATCH_ENDPOINT: collectorUrl };
}, 1_200_000);

afterAll(async () => {
  if (collector && collector.exitCode === null) {
    const exited = new Promise<true>((r) => collector!.once('exit', () => r(true)));
    collector.kill('SIGTERM');
    // A scratch collector: its data is thrown away, so a slow drain (seen on a loaded 2-core
    // machine) is cut short instead of failing this suite; test/start-signals.test.ts covers
    // stopping on signals.
    const timeout = new Promise<false>((r) => setTimeout(() => r(false), 30_000).unref());
    if (!(await Promise.race([exited, timeout]))) {
      collector.kill('SIGKILL');
      await exited;
    }
  }
  await fake?.close();
  rmSync(work, { recursive: true, force: true });
}, 120_000);

describe('packed @llmwatch/core, @llmwatch/sdk and @llmwatch/collector installed with npm', () => {
  it('install with --engine-strict into a clean tree (npm ls exits 0) and ship only built files', async () => {
    await ok('npm', ['ls', '--all'], app);
    for (const name of ['core', 'sdk', 'collector']) {
      const files = (await ok('tar', ['-tzf', join(packs, `llmwatch-${name}-0.1.0.tgz`)], work)).split('\n');
      expect(files.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
      expect(files.filter((f) => /\.test\.|\.map$|\/demo\/|\/pii\/eval|\/fixtures\//.test(f))).toEqual([]);
    }
  });

  it('publint and arethetypeswrong report no problems', { timeout: 300_000 }, async () => {
    for (const name of ['core', 'sdk', 'collector']) {
      const tarball = join(packs, `llmwatch-${name}-0.1.0.tgz`);
      await ok(bin('publint'), ['run', tarball, '--strict'], work);
      // The collector is ESM-only: its engines (Node >= 20.19) load it with require() too.
      const profile = name === 'collector' ? ['--profile', 'esm-only'] : [];
      await ok(bin('attw'), [tarball, '--no-color', ...profile], work);
    }
  });

  it(
    '(a) an ESM app runs the README snippet unchanged and its call reaches the collector',
    { timeout: 120_000 },
    async () => {
      writeFileSync(join(app, 'readme.mjs'), readmeSnippet());
      await ok(process.execPath, ['readme.mjs'], app, appEnv);
      const call = await callOf('support-bot');
      expect(call).toMatchObject({
        model: 'gpt-4o-mini',
        userId: 'u-42',
        promptName: 'answer',
        promptVersion: '3',
      });
    },
  );

  it('(b) a CommonJS app (require) records its call the same way', { timeout: 120_000 }, async () => {
    writeFileSync(
      join(app, 'app.cjs'),
      `const { OpenAI } = require('openai');
const { init, wrapOpenAI, withContext } = require('@llmwatch/sdk');
const { parseConfig } = require('@llmwatch/collector');
if (typeof parseConfig !== 'function') throw new Error('require(@llmwatch/collector) gave no parseConfig');
init({ serviceName: 'support-bot-cjs' });
const openai = wrapOpenAI(new OpenAI());
withContext({ userId: 'u-7' }, () =>
  openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
).then((completion) => console.log(completion.choices[0].message.content));
`,
    );
    await ok(process.execPath, ['app.cjs'], app, appEnv);
    expect(await callOf('support-bot-cjs')).toMatchObject({ model: 'gpt-4o-mini', userId: 'u-7' });
  });

  it(
    "(c) an app running the OpenTelemetry NodeSDK 2.x: the call is its span's child, in its trace",
    { timeout: 120_000 },
    async () => {
      writeFileSync(
        join(app, 'nodesdk.mjs'),
        `import { NodeSDK } from '@opentelemetry/sdk-node';
import { trace } from '@opentelemetry/api';
import OpenAI from 'openai';
import { init, llmwatchSpanProcessor, wrapOpenAI } from '@llmwatch/sdk';

const sdk = new NodeSDK({ serviceName: 'nodesdk-app', spanProcessors: [llmwatchSpanProcessor()] });
sdk.start();
init();
const openai = wrapOpenAI(new OpenAI());
const parent = await trace.getTracer('app').startActiveSpan('POST /answer', async (span) => {
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
  span.end();
  return span.spanContext();
});
await sdk.shutdown();
console.log(JSON.stringify(parent));
`,
      );
      const out = await ok(process.execPath, ['nodesdk.mjs'], app, {
        ...appEnv,
        OTEL_LOG_LEVEL: 'info',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      });
      expect(out).toContain("init() uses the app's TracerProvider");
      const parent = JSON.parse(out.trim().split('\n').pop()!) as { traceId: string; spanId: string };
      const call = await callOf('nodesdk-app');
      expect(call.parentSpanId).toBe(parent.spanId);
      expect(call.traceId).toBe(parent.traceId);
    },
  );
});

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Regression: `pnpm start` ran the collector under a second pnpm, and a SIGTERM or SIGINT sent
 * to `pnpm start` (a service manager, a container runtime, Ctrl-C from a script) ended pnpm but
 * left the collector running, still holding the port and the data directory's lock.
 */
const root = join(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Processes whose command line mentions `needle` (Linux /proc). */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.runIf(process.platform === 'linux')('pnpm start and signals', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(
      `${signal} to pnpm start stops the collector: no orphan keeps the port or the data directory`,
      { timeout: 180_000 },
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'llmwatch-start-signal-'));
        dirs.push(dir);
        const data = join(dir, 'data');
        const pnpm = spawn('pnpm', ['start', '--port', '0', '--data', data], { cwd: root, stdio: 'pipe' });
        let out = '';
        pnpm.stdout.on('data', (c: Buffer) => (out += c.toString()));
        pnpm.stderr.on('data', (c: Buffer) => (out += c.toString()));
        const exited = new Promise<void>((resolve) => pnpm.once('exit', () => resolve()));
        await until(
          () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out),
          'the collector listens',
          120_000,
        );
        const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
        expect(await portAccepts(port)).toBe(true);

        pnpm.kill(signal);
        await exited;
        await until(() => processesMentioning(data).length === 0, `no process runs on ${data}`);
        expect(await portAccepts(port)).toBe(false);
        expect(out).toContain(`${signal}: draining and stopping`);
      },
    );
  }
});

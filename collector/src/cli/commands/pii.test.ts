import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scanJsonLines } from './pii.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function collect(stream: PassThrough): () => string {
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  return () => out;
}

const INPUT = [
  JSON.stringify({ id: 'a', text: 'mail me: anna@example.com' }),
  '{not json',
  JSON.stringify({ id: 2, text: 'nothing here, order 2024-0001' }),
  JSON.stringify({ id: 'c' }),
  '',
  JSON.stringify({ id: 'd', text: '电话 +86 138 1234 5678' }),
].join('\n');

describe('llmwatch pii scan', () => {
  it('writes one line per good input, in order; bad lines go to stderr with their line number', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    const stdout = collect(out);
    const stderr = collect(err);
    const result = await scanJsonLines(Readable.from([INPUT]), out, err);
    expect(result).toEqual({ scanned: 3, bad: 2 });
    expect(
      stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { id: 'a', findings: [{ type: 'email', start: 9, end: 25 }] },
      { id: 2, findings: [] },
      { id: 'd', findings: [{ type: 'phone', start: 3, end: 20 }] },
    ]);
    expect(stderr()).toContain('line 2: not valid JSON');
    expect(stderr()).toContain('line 4: "text" must be a string');
  });

  it('scans only the requested types', async () => {
    const out = new PassThrough();
    const stdout = collect(out);
    await scanJsonLines(
      Readable.from([JSON.stringify({ id: 'x', text: 'a@b.co +1 415 555 2671' })]),
      out,
      new PassThrough(),
      {
        types: ['email'],
      },
    );
    expect(stdout()).toBe('{"id":"x","findings":[{"type":"email","start":0,"end":6}]}\n');
  });

  it('runs as a command: exit 1 with bad lines, 2 for a usage error', () => {
    const run = (args: string[], input: string) =>
      spawnSync(
        process.execPath,
        ['--conditions=@llmwatch/source', '--import', 'tsx', 'collector/src/cli/main.ts', ...args],
        {
          cwd: root,
          input,
          encoding: 'utf8',
        },
      );
    const ok = run(['pii', 'scan'], INPUT);
    expect(ok.stdout.trim().split('\n')).toHaveLength(3);
    expect(ok.stderr).toContain('line 4');
    expect(ok.status).toBe(1);
    const usage = run(['pii', 'scan', '--types', 'passport'], '');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('unknown type(s) passport');
  });
});

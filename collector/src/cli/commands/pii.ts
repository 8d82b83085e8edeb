import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { PII_TYPES, scanText, type PiiScanOptions, type PiiType } from '@llmwatch/core';
import type { Command } from 'commander';
import { LlmwatchError } from '../../errors.js';

export interface PiiScanStreamResult {
  /** Input lines that produced an output line. */
  scanned: number;
  /** Lines that were not a JSON object with a string/number `id` and a string `text`. */
  bad: number;
}

const FLUSH_BYTES = 64 * 1024;

/**
 * `llmwatch pii scan`: JSON Lines `{"id","text"}` in, `{"id","findings":[{"type","start","end"}]}`
 * out, one line per good input line, in input order. Streams line by line (memory bounded by
 * the longest line) and respects back-pressure. A bad line is reported on `errors` with its line
 * number and skipped; the lines around it are still processed. Empty lines are ignored.
 */
export async function scanJsonLines(
  input: Readable,
  output: Writable,
  errors: Writable,
  options: PiiScanOptions = {},
): Promise<PiiScanStreamResult> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let scanned = 0;
  let bad = 0;
  let pending = '';
  const flush = async () => {
    if (pending === '') return;
    const chunk = pending;
    pending = '';
    if (!output.write(chunk)) await once(output, 'drain');
  };
  for await (const line of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      bad++;
      errors.write(`llmwatch pii scan: line ${lineNo}: not valid JSON (${(error as Error).message})\n`);
      continue;
    }
    const r = record as { id?: unknown; text?: unknown } | null;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) {
      bad++;
      errors.write(`llmwatch pii scan: line ${lineNo}: expected a JSON object {"id","text"}\n`);
      continue;
    }
    if (typeof r.id !== 'string' && typeof r.id !== 'number') {
      bad++;
      errors.write(`llmwatch pii scan: line ${lineNo}: "id" must be a string or a number\n`);
      continue;
    }
    if (typeof r.text !== 'string') {
      bad++;
      errors.write(
        `llmwatch pii scan: line ${lineNo}: "text" must be a string (id ${JSON.stringify(r.id)})\n`,
      );
      continue;
    }
    const findings = scanText(r.text, options).map((f) => ({ type: f.type, start: f.start, end: f.end }));
    pending += `${JSON.stringify({ id: r.id, findings })}\n`;
    scanned++;
    if (pending.length >= FLUSH_BYTES) await flush();
  }
  await flush();
  return { scanned, bad };
}

function parseTypes(value: string): PiiType[] {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const unknown = types.filter((t) => !(PII_TYPES as readonly string[]).includes(t));
  if (unknown.length || types.length === 0)
    throw new LlmwatchError(
      'usage',
      `--types: unknown type(s) ${unknown.join(', ') || '(none)'}; known: ${PII_TYPES.join(', ')}`,
    );
  return types as PiiType[];
}

function parsePattern(value: string, previous: RegExp[] = []): RegExp[] {
  try {
    return [...previous, new RegExp(value, 'g')];
  } catch (error) {
    throw new LlmwatchError('usage', `--secret-pattern: ${(error as Error).message}`);
  }
}

export function register(program: Command): void {
  const pii = program.command('pii').description('PII and secret detection');
  pii
    .command('scan')
    .description(
      'Read JSON Lines {"id","text"} on stdin, write {"id","findings":[{"type","start","end"}]} per line ' +
        '(offsets are JavaScript string indices, end exclusive). Bad lines are reported on stderr and make the exit code 1.',
    )
    .option('--types <list>', `comma-separated subset of: ${PII_TYPES.join(', ')}`)
    .option('--secret-pattern <regex>', 'extra secret format (repeatable)', parsePattern)
    .action(async (opts: { types?: string; secretPattern?: RegExp[] }) => {
      const options: PiiScanOptions = {};
      if (opts.types !== undefined) options.types = parseTypes(opts.types);
      if (opts.secretPattern?.length) options.customSecretPatterns = opts.secretPattern;
      let result: PiiScanStreamResult;
      try {
        result = await scanJsonLines(process.stdin, process.stdout, process.stderr, options);
      } catch (cause) {
        throw new LlmwatchError('internal', `pii scan failed: ${(cause as Error).message}`, { cause });
      }
      if (result.bad > 0) {
        process.stderr.write(
          `llmwatch pii scan: ${result.bad} bad line(s) skipped, ${result.scanned} scanned\n`,
        );
        process.exitCode = 1;
      }
    });
}

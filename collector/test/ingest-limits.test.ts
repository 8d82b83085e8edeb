import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningCollector } from '../src/server/collector.js';
import {
  numberedSpans,
  protobufExport,
  startTestCollector,
  stopCollectors,
  tempDir,
} from './ingest-helpers.js';

/** Limits that keep one tenant or one client from stopping everyone's ingest. */
const KEY_A = 'key-project-alpha-limits';
const KEY_B = 'key-project-beta-limits';
// Long enough for a loaded test machine; the deadline itself is tested in receive.test.ts.
const BODY_TIMEOUT_MS = 20_000;
const MiB = 1024 * 1024;
const IN_FLIGHT_BYTES = 4 * MiB;

let collector: RunningCollector;
beforeAll(async () => {
  collector = await startTestCollector(tempDir(), {
    projects: [
      { id: 'alpha', keys: [KEY_A] },
      { id: 'beta', keys: [KEY_B] },
    ],
    ingest: { limits: { bodyTimeoutMs: BODY_TIMEOUT_MS, maxInFlightBytes: IN_FLIGHT_BYTES } },
  });
  // The worker threads start on the first export; the timed test below must not wait for that.
  expect(await exportSpans(KEY_B, 'b0')).toBe(200);
});
afterAll(stopCollectors);

interface Answer {
  status?: number;
  error?: string;
}

/** A node:http POST to /v1/traces, as the OTLP exporters send it; resolves with the answer or the socket error. */
function openExport(
  key: string,
  headers: Record<string, string | number> = {},
): {
  req: ClientRequest;
  answer: Promise<Answer>;
} {
  const url = new URL('/v1/traces', collector.url);
  // One connection per export: a reset shows up on the export it concerns.
  const req = request(url, {
    agent: false,
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${key}`, ...headers },
  });
  const answer = new Promise<Answer>((resolve) => {
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
  return { req, answer };
}

async function exportSpans(key: string, prefix: string): Promise<number | undefined> {
  const body = protobufExport(numberedSpans(prefix, 3));
  const { req, answer } = openExport(key, { 'content-length': body.length });
  req.end(body);
  return (await answer).status;
}

describe('ingest limits', () => {
  it('ingest lock-out: 16 stalled chunked uploads with project A’s key leave project B’s exports at 2xx', async () => {
    // Each upload sends one chunk of its body and then nothing.
    const stalled = Array.from({ length: 16 }, () => {
      const upload = openExport(KEY_A);
      upload.req.write(protobufExport(numberedSpans('f0', 1)).subarray(0, 10));
      return upload;
    });
    const answers = stalled.map((s) => s.answer);
    // Beyond maxConcurrentRequestsPerProject (8) A's uploads are refused before their body is read.
    const refused = await waitForAnswers(answers, 8);
    expect(refused.map((a) => a.status)).toEqual(Array(8).fill(429));

    expect(await exportSpans(KEY_B, 'b1')).toBe(200);
    expect(await exportSpans(KEY_A, 'a1')).toBe(429);

    // The stalled uploads go away (or are cut at the body deadline), and A is served again.
    for (const s of stalled) s.req.destroy();
    await Promise.all(answers);
    let status = await exportSpans(KEY_A, 'a2');
    for (let tries = 0; status === 429 && tries < 50; tries++) status = await exportSpans(KEY_A, 'a2');
    expect(status).toBe(200);
  });

  it('oversized bodies: a 64 MB body is answered 413 to a node:http client, not EPIPE', async () => {
    const body = Buffer.alloc(64 * 1024 * 1024, 1);
    const { req, answer } = openExport(KEY_A, { 'content-length': body.length });
    const sent = new Promise<void>((resolve) => req.once('close', resolve));
    req.end(body);
    expect(await answer).toEqual({ status: 413 });
    // The whole body was written: no EPIPE/ECONNRESET after the answer either.
    let writeError: unknown;
    req.once('error', (error) => (writeError = error));
    await sent;
    expect(writeError).toBeUndefined();
    // The connection's rest of the body was discarded: the next export is served normally.
    expect(await exportSpans(KEY_A, 'a3')).toBe(200);
  });

  it('oversized bodies: an 8 MB export with an unknown key is answered 401, not EPIPE', async () => {
    const body = Buffer.alloc(8 * MiB, 1);
    const { req, answer } = openExport('not-a-configured-key', { 'content-length': body.length });
    const sent = new Promise<void>((resolve) => req.once('close', resolve));
    req.end(body);
    expect(await answer).toEqual({ status: 401 });
    let writeError: unknown;
    req.once('error', (error) => (writeError = error));
    await sent;
    expect(writeError).toBeUndefined();
  });

  it('oversized bodies: a chunked body over the limit is answered 413 while it is still being sent', async () => {
    const { req, answer } = openExport(KEY_A);
    const chunk = Buffer.alloc(1024 * 1024, 1);
    for (let i = 0; i < 20; i++) req.write(chunk);
    req.end();
    expect(await answer).toEqual({ status: 413 });
  });

  it('memory bounded by configuration: exports beyond the in-flight byte budget get 429 while a big upload holds it', async () => {
    const exportOf = (prefix: string, bytes: number): Buffer =>
      protobufExport(
        numberedSpans(prefix, 1).map((s) => ({
          ...s,
          attributes: [{ key: 'big', value: { stringValue: 'x'.repeat(bytes) } }],
        })),
      );
    const bigBody = exportOf('e1', 3 * MiB);
    const big = openExport(KEY_A, { 'content-length': bigBody.length });
    big.req.write(bigBody.subarray(0, 3 * MiB));
    const probe = async (): Promise<number | undefined> => {
      const body = exportOf('e2', 2 * MiB);
      const { req, answer } = openExport(KEY_B, { 'content-length': body.length });
      req.end(body);
      return (await answer).status;
    };
    // Once the 3 MiB are read, 2 more do not fit in 4 MiB. A probe sent before then could be read
    // first and leave the big upload's bytes no room (regression: the test then waited for a 429
    // that never came), so it waits for the collector to report the 3 MiB held.
    const deadline = Date.now() + BODY_TIMEOUT_MS / 2;
    while ((await bodyBytesHeld()) < 3 * MiB && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await bodyBytesHeld()).toBe(3 * MiB);
    expect(await probe()).toBe(429);
    // The big upload ends and gives its bytes back; the same export is read now.
    big.req.end(bigBody.subarray(3 * MiB));
    expect((await big.answer).status).toBe(200);
    expect(await probe()).toBe(200);
    expect(await bodyBytesHeld()).toBe(0);
  });
});

/** llmwatch_ingest_body_bytes of the collector: export bytes it holds now. */
async function bodyBytesHeld(): Promise<number> {
  const res = await fetch(new URL('/metrics', collector.url), {
    headers: { authorization: `Bearer ${KEY_A}` },
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  return Number(/^llmwatch_ingest_body_bytes (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

/** Resolves with the first `count` answers to arrive, in arrival order. */
function waitForAnswers(answers: Promise<Answer>[], count: number): Promise<Answer[]> {
  return new Promise((resolve) => {
    const arrived: Answer[] = [];
    for (const answer of answers) {
      void answer.then((a) => {
        arrived.push(a);
        if (arrived.length === count) resolve(arrived);
      });
    }
  });
}

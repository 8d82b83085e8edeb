import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FAKE_REPLY_HEADER } from './types.js';
import type { FakeReply, FakeServer, FakeServerOptions, FakeUsage, RecordedRequest } from './types.js';

/** One server-sent event; `event` is omitted for OpenAI chat chunks (data-only lines). */
export interface SseEvent {
  event?: string;
  data: unknown;
}

/** What a provider route answers once the reply is resolved. */
export type RouteAnswer =
  | { kind: 'json'; body: unknown }
  | { kind: 'sse'; events: SseEvent[]; done?: boolean }
  | { kind: 'status'; status: number; body: unknown };

export interface RouteContext {
  request: RecordedRequest;
  reply: FakeReply;
  /** Monotonic per server, for deterministic ids. */
  seq: number;
}

export type Route = (ctx: RouteContext) => RouteAnswer | undefined;

export interface ProviderSpec {
  /** Path suffix appended to the origin to make `url`. */
  basePath: string;
  route: Route;
  errorBody: (status: number, message: string, type: string) => unknown;
  errorType: (status: number) => string;
  requestIdHeader: string;
}

export const DEFAULT_CONTENT = 'This is a deterministic reply from the fake server.';

export const tokensOf = (chars: number): number => Math.max(1, Math.ceil(chars / 4));

/** Sum of the lengths of every string leaf: a deterministic stand-in for a tokenizer. */
export function textLength(value: unknown): number {
  if (typeof value === 'string') return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + textLength(v), 0);
  if (value && typeof value === 'object') {
    let n = 0;
    for (const v of Object.values(value)) n += textLength(v);
    return n;
  }
  return 0;
}

/** Fills every usage field: scripted numbers win, the rest derive from the text lengths. */
export function resolveUsage(reply: FakeReply, inputChars: number, outputChars: number): FakeUsage {
  const u = reply.usage ?? {};
  return {
    inputTokens: u.inputTokens ?? tokensOf(inputChars),
    outputTokens: u.outputTokens ?? tokensOf(outputChars) + (u.reasoningTokens ?? 0),
    cacheReadTokens: u.cacheReadTokens ?? 0,
    cacheWriteTokens: u.cacheWriteTokens ?? 0,
    reasoningTokens: u.reasoningTokens ?? 0,
  };
}

/** Splits text into word-sized stream deltas (each keeps its trailing whitespace). */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/** Splits JSON argument text into small fragments, like real tool-call streaming. */
export function splitFragments(text: string, size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function headerReply(req: IncomingMessage): FakeReply | undefined {
  const raw = req.headers[FAKE_REPLY_HEADER];
  if (typeof raw !== 'string') return undefined;
  return JSON.parse(raw) as FakeReply;
}

export async function startServer(spec: ProviderSpec, options: FakeServerOptions = {}): Promise<FakeServer> {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  let seq = 0;

  const resolveReply = (req: IncomingMessage, recorded: RecordedRequest): FakeReply => {
    const chosen = headerReply(req) ?? queue.shift() ?? options.responder?.(recorded) ?? {};
    return { ...options.defaults, ...chosen };
  };

  const sendError = (
    res: ServerResponse,
    status: number,
    message: string,
    type: string,
    retryAfter?: number,
  ): void => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [spec.requestIdHeader]: `req_fake_${seq}`,
    };
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    res.writeHead(status, headers).end(JSON.stringify(spec.errorBody(status, message, type)));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body };
    requests.push(recorded);
    seq++;
    let reply: FakeReply;
    try {
      reply = resolveReply(req, recorded);
    } catch (e) {
      sendError(res, 400, `bad ${FAKE_REPLY_HEADER} header: ${String(e)}`, spec.errorType(400));
      return;
    }
    // Closed by the client (abort) or by us (drop): stop writing.
    let closed = false;
    res.on('close', () => (closed = true));

    const ttft = reply.ttftMs ?? 0;
    const gap = reply.delayMs ?? 0;
    if (reply.dropAfterChunks === 0) {
      await sleep(ttft);
      req.socket.destroy();
      return;
    }
    if (reply.error) {
      await sleep(ttft + gap);
      const {
        status,
        type = spec.errorType(status),
        message = `fake ${status} error`,
        retryAfterSeconds,
      } = reply.error;
      if (!closed) sendError(res, status, message, type, retryAfterSeconds);
      return;
    }
    const answer = spec.route({ request: recorded, reply, seq });
    if (!answer) {
      sendError(res, 404, `fake server has no route for ${recorded.method} ${path}`, spec.errorType(404));
      return;
    }
    const idHeader = { [spec.requestIdHeader]: `req_fake_${seq}` };
    if (answer.kind === 'status') {
      res
        .writeHead(answer.status, { 'content-type': 'application/json', ...idHeader })
        .end(JSON.stringify(answer.body));
      return;
    }
    if (answer.kind === 'json') {
      await sleep(ttft + gap);
      if (!closed)
        res
          .writeHead(200, { 'content-type': 'application/json', ...idHeader })
          .end(JSON.stringify(answer.body));
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...idHeader,
    });
    res.flushHeaders();
    let written = 0;
    for (const ev of answer.events) {
      await sleep(written === 0 ? ttft : gap);
      if (closed) return;
      if (reply.dropAfterChunks !== undefined && written >= reply.dropAfterChunks) {
        // Flush what was written, then cut the connection without finishing the chunked body.
        req.socket.destroySoon();
        return;
      }
      res.write(`${ev.event ? `event: ${ev.event}\n` : ''}data: ${JSON.stringify(ev.data)}\n\n`);
      written++;
    }
    if (closed) return;
    if (answer.done) res.write('data: [DONE]\n\n');
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendError(res, 500, `fake server bug: ${String(e)}`, spec.errorType(500));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${options.host ?? '127.0.0.1'}:${port}`;
  let closing: Promise<void> | undefined;

  const fake: FakeServer = {
    url: origin + spec.basePath,
    origin,
    port,
    requests,
    script(...replies) {
      queue.push(...replies);
      return fake;
    },
    reset() {
      seq = 0;
      queue.length = 0;
      requests.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return fake;
}

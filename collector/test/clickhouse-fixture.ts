import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync, inflateSync } from 'node:zlib';
import { Session } from 'chdb';

/**
 * The ClickHouse HTTP interface served from chDB, for server-mode tests on machines without a
 * ClickHouse server: the real engine behind the real `@clickhouse/client` HTTP transport. It
 * implements what that transport sends (query in the `query` URL parameter and/or the POST body,
 * INSERT data in the body after the statement, `param_*` bindings in the URL or a multipart body,
 * any other URL parameter as a setting, `database`, gzip/deflate request bodies, gzip answers
 * when asked) and answers like the server (X-ClickHouse-Summary / Query-Id / Format headers;
 * errors as HTTP 500/404 with `Code: N. DB::Exception: ...` and X-ClickHouse-Exception-Code).
 *
 * Faults simulate what a network or server outage does to a client:
 * - `refuse`: the port is closed (ECONNREFUSED); open connections are reset.
 * - `unavailable`: every request is answered 503 (a proxy in front of a dead server).
 * - `hang`: requests are read and never answered.
 * - `drop-after-commit`: the statement runs (an INSERT is committed), then the connection is
 *   reset before the answer: the client cannot know its insert landed.
 * A fault applies to every request, or with `only` to those whose statement matches.
 *
 * chDB opens one data directory per process: a test process that runs this fixture cannot also
 * run an embedded collector (run that one as a child process, or in another test file).
 */
export type ClickHouseFault = 'none' | 'refuse' | 'unavailable' | 'hang' | 'drop-after-commit';

export interface ClickHouseFixture {
  /** `http://127.0.0.1:<port>`: give it as `storage.url`. */
  url: string;
  port: number;
  /** Sets the fault for requests from now on; `only` restricts it to matching statements. */
  setFault(fault: ClickHouseFault, only?: RegExp): Promise<void>;
  /** Statements run so far (after faults), for assertions on what the client did. */
  readonly statements: readonly string[];
  /** How the request body of each statement in `statements` came: its Content-Encoding and size on the wire. */
  readonly bodies: readonly { contentEncoding: string; wireBytes: number }[];
  /** Runs SQL directly on the engine (no HTTP, no faults), for assertions. */
  query(sql: string): Promise<string>;
  /** Stops serving, closes the engine and removes the data directory it created. */
  close(): Promise<void>;
}

/** URL parameters that are HTTP-interface options, not settings. */
const NOT_SETTINGS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'role',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_wait_end_of_query',
]);

interface ParsedRequest {
  sql: string;
  /** The data of an INSERT in a binary format: the engine reads it from a file (chDB takes inline data as text only). */
  binaryData?: Buffer;
  params: Map<string, string>;
  settings: Map<string, string>;
  database: string;
  format: string;
  queryId: string;
}

export async function startClickHouseFixture(options: { dataDir?: string } = {}): Promise<ClickHouseFixture> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'llmwatch-chfixture-'));
  const session = new Session(dataDir);
  let fault: ClickHouseFault = 'none';
  let faultOnly: RegExp | undefined;
  const statements: string[] = [];
  const bodies: { contentEncoding: string; wireBytes: number }[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let currentDatabase = 'default';

  // One statement at a time on the session: settings and parameters are set on it per request.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(run: () => Promise<T>): Promise<T> => {
    const next = tail.then(run, run);
    tail = next.catch(() => undefined);
    return next;
  };

  const run = (req: ParsedRequest) =>
    exclusive(async () => {
      if (req.database !== currentDatabase) {
        await session.queryAsync(`USE ${quoteIdentifier(req.database)}`);
        currentDatabase = req.database;
      }
      for (const [name, value] of req.params)
        await session.queryAsync(`SET param_${name} = ${quoteString(value)}`);
      for (const [name, value] of req.settings)
        await session.queryAsync(`SET ${quoteIdentifier(name)} = ${settingLiteral(value)}`);
      const file = req.binaryData && join(dataDir, `insert-${crypto.randomUUID()}.bin`);
      try {
        if (!file) return await session.queryAsync(req.sql, { format: req.format });
        writeFileSync(file, req.binaryData!);
        return await session.queryAsync(withInfile(req.sql, file), { format: req.format });
      } finally {
        if (file) rmSync(file, { force: true });
        for (const name of req.settings.keys())
          await session.queryAsync(`SET ${quoteIdentifier(name)} = DEFAULT`).catch(() => undefined);
      }
    });

  const applies = (sql: string): boolean => fault !== 'none' && (!faultOnly || faultOnly.test(sql));

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://fixture');
    if (url.pathname === '/ping') {
      if (fault === 'unavailable') return void response.writeHead(503).end('Service Unavailable\n');
      if (fault === 'hang') return void hanging.add(response);
      response.writeHead(200, { 'content-type': 'text/plain; charset=UTF-8' }).end('Ok.\n');
      return;
    }
    let parsed: ParsedRequest;
    let body: { contentEncoding: string; wireBytes: number };
    try {
      const raw = await readAll(request);
      body = { contentEncoding: String(request.headers['content-encoding'] ?? ''), wireBytes: raw.length };
      parsed = parseRequest(url, request.headers, raw);
    } catch (error) {
      sendError(response, 400, `Code: 27. DB::Exception: ${(error as Error).message}. (CANNOT_PARSE_INPUT)`);
      return;
    }
    if (applies(parsed.sql)) {
      if (fault === 'unavailable') return void response.writeHead(503).end('Service Unavailable\n');
      if (fault === 'hang') return void hanging.add(response);
    }
    const dropAfterCommit = fault === 'drop-after-commit' && applies(parsed.sql);
    const started = process.hrtime.bigint();
    try {
      const result = await run(parsed);
      statements.push(parsed.sql);
      bodies.push(body);
      if (dropAfterCommit) {
        request.socket.destroy();
        return;
      }
      const bytes = Buffer.from(result.bytes());
      const written = /^\s*INSERT\b/i.test(parsed.sql) ? result.rowsRead : 0;
      const summary = {
        read_rows: String(result.rowsRead),
        read_bytes: String(result.bytesRead),
        written_rows: String(written),
        written_bytes: '0',
        total_rows_to_read: '0',
        result_rows: '0',
        result_bytes: String(bytes.length),
        elapsed_ns: String(process.hrtime.bigint() - started),
      };
      const headers: Record<string, string> = {
        'content-type': contentTypeOf(parsed.format),
        'x-clickhouse-query-id': parsed.queryId,
        'x-clickhouse-format': parsed.format,
        'x-clickhouse-timezone': 'UTC',
        'x-clickhouse-summary': JSON.stringify(summary),
      };
      const gzip =
        url.searchParams.get('enable_http_compression') === '1' &&
        /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      if (gzip) {
        headers['content-encoding'] = 'gzip';
        response.writeHead(200, headers).end(gzipSync(bytes));
      } else response.writeHead(200, headers).end(bytes);
    } catch (error) {
      if (dropAfterCommit) {
        request.socket.destroy();
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      const code = /^Code: (\d+)/.exec(message)?.[1] ?? '1000';
      sendError(response, code === '60' || code === '81' ? 404 : 500, message, code);
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        sendError(response, 500, `Code: 1000. DB::Exception: ${String(error)}. (POCO_EXCEPTION)`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 10_000;
  await listen(server, 0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const stopListening = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    hanging.clear();
    await closed;
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    statements,
    bodies,
    async setFault(next, only) {
      const wasRefusing = fault === 'refuse';
      fault = next;
      faultOnly = only;
      if (next !== 'hang') {
        for (const response of hanging) response.socket?.destroy();
        hanging.clear();
      }
      if (next === 'refuse' && !wasRefusing) await stopListening();
      if (next !== 'refuse' && wasRefusing) await listen(server, port);
    },
    query: async (sql) => (await exclusive(() => session.queryAsync(sql, { format: 'TabSeparated' }))).text(),
    async close() {
      if (server.listening) await stopListening();
      await tail;
      session.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseRequest(url: URL, headers: IncomingMessage['headers'], raw: Buffer): ParsedRequest {
  const encoding = String(headers['content-encoding'] ?? '').toLowerCase();
  const body = encoding === 'gzip' ? gunzipSync(raw) : encoding === 'deflate' ? inflateSync(raw) : raw;
  const params = new Map<string, string>();
  const settings = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (name.startsWith('param_')) params.set(name.slice('param_'.length), value);
    else if (!NOT_SETTINGS.has(name)) settings.set(name, value);
  }
  const urlStatement = url.searchParams.get('query') ?? '';
  if (BINARY_INSERT.test(urlStatement) && body.length > 0)
    return {
      sql: urlStatement,
      binaryData: body,
      params,
      settings,
      database: url.searchParams.get('database') ?? 'default',
      format: url.searchParams.get('default_format') ?? 'TabSeparated',
      queryId: url.searchParams.get('query_id') ?? crypto.randomUUID(),
    };
  let bodyText = body.toString('utf8');
  const multipart = /^multipart\/form-data;\s*boundary=(.+)$/i.exec(String(headers['content-type'] ?? ''));
  if (multipart?.[1]) {
    bodyText = '';
    for (const [name, value] of multipartFields(body.toString('utf8'), multipart[1])) {
      if (name === 'query') bodyText = value;
      else if (name.startsWith('param_')) params.set(name.slice('param_'.length), value);
    }
  }
  const urlQuery = url.searchParams.get('query') ?? '';
  // The server's rule: URL query first, then the body (an INSERT's data, or the whole statement).
  const sql = urlQuery && bodyText ? `${urlQuery}\n${bodyText}` : urlQuery || bodyText;
  if (!sql.trim()) throw new Error('Empty query');
  return {
    sql,
    params,
    settings,
    database: url.searchParams.get('database') ?? 'default',
    format: url.searchParams.get('default_format') ?? 'TabSeparated',
    queryId: url.searchParams.get('query_id') ?? crypto.randomUUID(),
  };
}

/** An INSERT whose data comes in a binary format, after the statement. */
const BINARY_INSERT = /^\s*INSERT\b[\s\S]*\bFORMAT\s+(?:RowBinary\w*|Native)\s*$/i;

/** `INSERT INTO t (…) [SETTINGS …] FORMAT f` reading its data from `file`. */
function withInfile(sql: string, file: string): string {
  const at = /\s(?:SETTINGS|FORMAT)\s/i.exec(sql.slice(sql.indexOf(')') + 1));
  if (!at) throw new Error(`cannot place FROM INFILE in ${sql}`);
  const split = sql.indexOf(')') + 1 + at.index;
  return `${sql.slice(0, split)} FROM INFILE ${quoteString(file)}${sql.slice(split)}`;
}

function multipartFields(body: string, boundary: string): [string, string][] {
  const fields: [string, string][] = [];
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const name = /name="([^"]+)"/.exec(part.slice(0, split))?.[1];
    if (name) fields.push([name, part.slice(split + 4).replace(/\r\n$/, '')]);
  }
  return fields;
}

function sendError(response: ServerResponse, status: number, message: string, code?: string): void {
  response
    .writeHead(status, {
      'content-type': 'text/plain; charset=UTF-8',
      'x-clickhouse-exception-code': code ?? /^Code: (\d+)/.exec(message)?.[1] ?? '1000',
    })
    .end(`${message}\n`);
}

function contentTypeOf(format: string): string {
  return /JSON/i.test(format) ? 'application/json; charset=UTF-8' : 'text/plain; charset=UTF-8';
}

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function settingLiteral(value: string): string {
  return /^-?\d+(\.\d+)?$/.test(value) ? value : quoteString(value);
}

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad identifier ${JSON.stringify(name)}`);
  return name;
}

import type { ErrorRequestHandler, RequestHandler } from 'express';
import { LlmwatchError } from '../errors.js';
import type { Logger } from '../logging.js';
import { encodeRpcStatus } from '../ingest/otlp-proto.js';
import { wireEncoding } from '../ingest/receive.js';
import type { CollectorMetrics } from './metrics.js';

/** gRPC status codes for the google.rpc.Status body OTLP/HTTP error responses carry. */
const GRPC_CODE: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  408: 4,
  413: 8,
  415: 3,
  429: 8,
  503: 14,
};

export const notFound: RequestHandler = (req) => {
  throw new LlmwatchError('not_found', `no route for ${req.method} ${req.path}`);
};

/**
 * The one place errors become responses. OTLP routes answer in the request's encoding
 * (google.rpc.Status for protobuf, `{code, message}` for JSON); other routes `{error: {code,
 * message}}`. 429/503 carry Retry-After. Unexpected errors are logged (type only) and hidden.
 */
export function errorMiddleware(logger: Logger, metrics?: CollectorMetrics): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    let err: LlmwatchError;
    if (error instanceof LlmwatchError) err = error;
    else if (isBodyParserError(error)) {
      err = new LlmwatchError(error.status === 413 ? 'payload_too_large' : 'bad_request', error.message);
    } else {
      logger.error(
        { err: { type: error instanceof Error ? error.name : typeof error }, path: req.path },
        'unhandled error',
      );
      err = new LlmwatchError('internal', 'internal error');
    }
    if (err.retryAfterSeconds !== undefined) res.set('Retry-After', String(err.retryAfterSeconds));
    // A stalled upload's connection is closed. Other refusals keep the connection open, even if
    // the sender asked to close it, until the unread rest of the body is discarded
    // (server/admission.ts): closing a socket with unread data resets it, and the sender would
    // see EPIPE instead of this answer.
    const otlp = req.path.startsWith('/v1/');
    if (err.status === 408) res.set('Connection', 'close');
    else if (otlp && !req.complete) res.shouldKeepAlive = true;
    if (otlp) {
      const encoding = wireEncoding(req.headers['content-type']);
      metrics?.requests.inc({ encoding: encoding ?? 'unknown', status: String(err.status) });
      if (encoding === 'protobuf') {
        res
          .status(err.status)
          .type('application/x-protobuf')
          .send(Buffer.from(encodeRpcStatus(GRPC_CODE[err.status] ?? 13, err.message)));
        return;
      }
      res.status(err.status).json({ code: GRPC_CODE[err.status] ?? 13, message: err.message });
      return;
    }
    res.status(err.status).json({ error: { code: err.code, message: err.message } });
  };
}

function isBodyParserError(error: unknown): error is { status: number; message: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number' &&
    typeof (error as { type?: unknown }).type === 'string'
  );
}

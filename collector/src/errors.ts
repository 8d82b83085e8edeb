/**
 * The one error type of the collector. Anything thrown with it becomes an HTTP response with
 * that status (in the error middleware) or a CLI exit with that code and a one-line reason.
 */
export type ErrorCode =
  | 'bad_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'request_timeout'
  | 'unsupported_media_type'
  | 'overloaded'
  | 'unavailable'
  | 'config'
  | 'usage'
  | 'internal';

const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  request_timeout: 408,
  unsupported_media_type: 415,
  overloaded: 429,
  unavailable: 503,
  config: 500,
  usage: 400,
  internal: 500,
};

export class LlmwatchError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (429/503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'LlmwatchError';
    this.code = code;
    this.status = HTTP_STATUS[code];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** CLI exit code: 2 for usage/config errors, 1 for runtime failures (docs/api.md#errors). */
  get exitCode(): 1 | 2 {
    return this.code === 'usage' || this.code === 'config' ? 2 : 1;
  }
}

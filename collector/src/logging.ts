import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for the CLI's one-line messages). Never log
 * request content, attribute values or keys: only counts, codes and low-cardinality names.
 */
export function createLogger(level: LevelWithSilent = 'info'): Logger {
  return pino(
    {
      level,
      base: { service: 'llmwatch-collector' },
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** The part of a pino logger that detection and alerting need (tests pass plain objects). */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
export const noLog: Log = { info() {}, warn() {}, error() {} };

/** A logger that discards everything (tests, embedding). */
export const silentLogger: Logger = pino({ level: 'silent' });

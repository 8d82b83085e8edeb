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

/** A logger that discards everything (tests, embedding). */
export const silentLogger: Logger = pino({ level: 'silent' });

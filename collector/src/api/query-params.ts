import { z } from 'zod';
import { LlmwatchError } from '../errors.js';

/**
 * Instants the tables can hold: DateTime64(9) ends on 2262-04-11. A bound outside it used to
 * reach ClickHouse and come back as a 500; it is a 400 naming the parameter.
 */
const MAX_INSTANT_MS = Date.UTC(2262, 3, 11);
const RANGE_MESSAGE = 'must lie between 1970-01-01 and 2262-04-10';

/** Epoch milliseconds as a JSON number (request bodies). */
export const epochMsSchema = z
  .number()
  .int()
  .min(0, RANGE_MESSAGE)
  .max(MAX_INSTANT_MS - 1, RANGE_MESSAGE);

/** A time bound: ISO 8601 or epoch milliseconds. */
export const instantSchema = z
  .union([
    z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
    z.iso.date().transform((s) => Date.parse(s)),
    z
      .string()
      .regex(/^\d{10,16}$/)
      .transform(Number),
  ])
  .refine((ms) => Number.isFinite(ms) && ms >= 0 && ms < MAX_INSTANT_MS, RANGE_MESSAGE);

/** Parses `req.query` (or a body) with a zod schema; a bad field becomes a 400 naming it. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : 'body';
  throw new LlmwatchError('bad_request', `${path}: ${issue?.message ?? 'invalid'}`);
}

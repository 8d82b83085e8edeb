import { z } from 'zod';
import { LlmwatchError } from '../errors.js';

/** A time bound: ISO 8601 or epoch milliseconds. */
export const instantSchema = z.union([
  z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
  z.iso.date().transform((s) => Date.parse(s)),
  z
    .string()
    .regex(/^\d{10,16}$/)
    .transform(Number),
]);

/** Parses `req.query` (or a body) with a zod schema; a bad field becomes a 400 naming it. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? issue.path.join('.') : 'body';
  throw new LlmwatchError('bad_request', `${path}: ${issue?.message ?? 'invalid'}`);
}

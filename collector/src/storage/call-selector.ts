import { z } from 'zod';

/**
 * Which stored calls a question is about: a time range and optional equalities on the call's
 * identity. One shape for compare's cohorts and dataset filters, which extend it with their own
 * fields (`z.object({ ...CALL_SELECTOR, … })`).
 */
export const CALL_SELECTOR = {
  /** Epoch ms, inclusive. */
  from: z.number().int().nonnegative(),
  /** Epoch ms, exclusive. */
  to: z.number().int().nonnegative(),
  promptName: z.string().max(200).optional(),
  promptVersion: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
  provider: z.string().max(200).optional(),
  service: z.string().max(200).optional(),
  /** `key=value` on the call's tags. */
  tag: z
    .string()
    .max(400)
    .regex(/^[^=]+=.*$/, 'tag: key=value')
    .optional(),
};

export type CallSelector = z.output<z.ZodObject<typeof CALL_SELECTOR>>;

const EQUALITIES: ReadonlyArray<[keyof CallSelector, string]> = [
  ['promptName', 'PromptName'],
  ['promptVersion', 'PromptVersion'],
  ['model', 'Model'],
  ['provider', 'Provider'],
  ['service', 'ServiceName'],
];

/**
 * The WHERE conditions on llm_calls for a selector in `{project:String}`; its values go into
 * `params` under names starting with `prefix`, so two selectors can share one query.
 */
export function callSelectorWhere(s: CallSelector, params: Record<string, unknown>, prefix = ''): string[] {
  const where = [
    'ProjectId = {project:String}',
    `Timestamp >= fromUnixTimestamp64Milli({${prefix}from:Int64})`,
    `Timestamp < fromUnixTimestamp64Milli({${prefix}to:Int64})`,
  ];
  params[`${prefix}from`] = s.from;
  params[`${prefix}to`] = s.to;
  for (const [key, column] of EQUALITIES) {
    const value = s[key];
    if (value === undefined) continue;
    params[`${prefix}${key}`] = value;
    where.push(`${column} = {${prefix}${key}:String}`);
  }
  if (s.tag !== undefined) {
    const at = s.tag.indexOf('=');
    params[`${prefix}tagKey`] = s.tag.slice(0, at);
    params[`${prefix}tagValue`] = s.tag.slice(at + 1);
    where.push(`Tags[{${prefix}tagKey:String}] = {${prefix}tagValue:String}`);
  }
  return where;
}

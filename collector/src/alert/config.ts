import { z } from 'zod';

const headersSchema = z.record(z.string(), z.string()).default({});

const notifierSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('webhook'),
      url: z.url(),
      /** HMAC-SHA256 key: the body is signed in `X-Llmwatch-Signature: sha256=<hex>`. */
      secret: z.string().min(1).optional(),
      headers: headersSchema,
    })
    .strict(),
  z.object({ type: z.literal('slack'), url: z.url() }).strict(),
]);

/** `alerts:` in llmwatch.config.yaml. */
export const alertsSchema = z
  .object({
    /** After a notification, the same (rule, subject) stays quiet this long (firing or re-firing). */
    cooldownMinutes: z.number().min(0).default(60),
    /** Notify when an alert resolves. */
    notifyResolved: z.boolean().default(true),
    /** Lowest severity that is notified (all are stored). */
    minSeverity: z.enum(['info', 'warning', 'critical']).default('warning'),
    notifiers: z.array(notifierSchema).default([]),
    delivery: z
      .object({
        attempts: z.number().int().min(1).max(20).default(5),
        initialBackoffMs: z.number().int().min(0).default(500),
        maxBackoffMs: z.number().int().min(0).default(30_000),
        timeoutMs: z.number().int().min(100).default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type AlertsConfig = z.output<typeof alertsSchema>;
export type NotifierConfig = z.output<typeof notifierSchema>;

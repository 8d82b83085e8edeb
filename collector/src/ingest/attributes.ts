import type { AttributeAliases } from '@llmwatch/core';
import { z } from 'zod';

const names = z.array(z.string().min(1)).max(16).optional();

/**
 * `ingest.attributes` in llmwatch.config.yaml: the app's own span attribute names for the identity
 * fields, read before the built-in dialect tables (packages/core/src/normalize/aliases.ts).
 *
 * ```yaml
 * ingest:
 *   attributes:
 *     promptName: [app.prompt.id]
 *     promptVersion: [app.prompt.rev]
 *     userId: [app.customer_id]
 *     sessionId: [app.visit_id]
 *     tags: [app.tag.*, app.region]
 * ```
 */
export const attributeAliasesSchema = z
  .object({
    promptName: names,
    promptVersion: names,
    userId: names,
    sessionId: names,
    tags: names,
  })
  .strict()
  .prefault({}) satisfies z.ZodType<AttributeAliases>;

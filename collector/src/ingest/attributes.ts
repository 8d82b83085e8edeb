import type { AttributeAliases, SelfHostedServer } from '@llmwatch/core';
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

/**
 * `ingest.selfHosted` in llmwatch.config.yaml: the installation's own OpenAI-compatible servers,
 * each stored as its own provider whatever client called it (packages/core/src/normalize/providers.ts,
 * docs/fine-tuning.md#self-hosted-models). `address` is a host, or `host:port` for one server of
 * several on a host.
 *
 * ```yaml
 * ingest:
 *   selfHosted:
 *     - { address: 'gpu-box:8000', provider: vllm }
 *     - { address: 'ollama.internal', provider: ollama }
 * ```
 */
export const selfHostedServersSchema = z
  .array(
    z
      .object({
        address: z
          .string()
          .trim()
          .min(1)
          .regex(/^[^\s]+$/, 'a host or host:port, without spaces'),
        provider: z
          .string()
          .trim()
          .min(1)
          .regex(/^[a-z0-9_.-]+$/, 'a provider name in lower case (vllm, tgi, ollama, lmstudio, …)'),
      })
      .strict(),
  )
  .max(256)
  .default([]) satisfies z.ZodType<SelfHostedServer[]>;

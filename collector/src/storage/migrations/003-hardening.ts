import type { Migration } from './index.js';
import { onCluster, type DdlContext } from './ddl.js';

/**
 * Exactly-once rollups. A replayed spool segment carries the insert_deduplication_token of its
 * first attempt: llm_calls drops the repeat, and with
 * `deduplicate_blocks_in_dependent_materialized_views` the block the view derives from it is
 * deduplicated too, but only in a target table that keeps a deduplication window. llm_calls_1m
 * had none, so a replay after a commit whose answer was lost counted every call twice in the
 * rollup. Replicated tables keep `replicated_deduplication_window` by default; the setting below
 * is for single-node MergeTree and is ignored by the Replicated engines.
 */
export const hardeningSchema: Migration = {
  version: 3,
  name: 'hardening',
  statements: (ctx: DdlContext) => {
    // On a sharded cluster the view writes the local table; the Distributed one has no parts.
    const rollup = ctx.cluster && ctx.distributed ? 'llm_calls_1m_local' : 'llm_calls_1m';
    return [
      `ALTER TABLE ${rollup}${onCluster(ctx)} MODIFY SETTING non_replicated_deduplication_window = 1000`,
    ];
  },
};

import type { Migration } from './index.js';
import { columnTables, onCluster, type DdlContext } from './ddl.js';

/** CRC-32 of a span's trace id and span id: what the writer's span lookup filters on (ingest/dedup.ts). */
export const IDS_CHECKSUM = 'CRC32(concat(TraceId, SpanId))';
/** The stored_spans column holding IDS_CHECKSUM. */
export const IDS_CHECKSUM_COLUMN = 'IdsChecksum';

/**
 * stored_spans keeps the checksum of each span's ids, computed once when the span is stored. The
 * span lookup (ingest/dedup.ts) reads the granules holding a segment's start times and filters them
 * by checksum. Computed at lookup time, that meant reading and hashing the ids of every stored span
 * sharing a granule with the segment: with 600,000 spans stored in the segment's minute, a
 * 10,000-span lookup took 174–176 ms; reading this column, 99–102 ms (`pnpm bench ingest`, "span
 * lookup"). Metadata only: parts stored before compute it when read, as the lookup did, until TTL
 * drops them.
 */
export const storedSpanChecksums: Migration = {
  version: 13,
  name: 'stored-span-checksums',
  statements: (ctx: DdlContext) =>
    columnTables(ctx, 'stored_spans').map(
      (table) =>
        `ALTER TABLE ${table}${onCluster(ctx)} ADD COLUMN IF NOT EXISTS ${IDS_CHECKSUM_COLUMN} UInt32 MATERIALIZED ${IDS_CHECKSUM}`,
    ),
};

import type { Migration } from './index.js';
import { columnTables, onCluster, type DdlContext } from './ddl.js';

/** The llm_calls vectors that can arrive as bytes instead of text (their `binaryInput` column). */
export const BINARY_FLOAT_COLUMNS = ['InputEmbedding', 'OutputEmbedding', 'InputSketch', 'OutputSketch'];

/** The EPHEMERAL column through which `column` arrives as base64 of little-endian float32 values. */
export function binaryInput(column: string): string {
  return `${column}Base64`;
}

/**
 * The float vectors of llm_calls (the two content sketches, 64 values each, and embeddings when a
 * span carries them) may arrive as base64 of their float32 bytes, in an EPHEMERAL String column
 * that the vector column's DEFAULT decodes. The engine had read every value of their `[0.0421,…]`
 * text with its float parser; decoding the bytes takes it ~0.2 µs a row, and the raw insert of
 * `pnpm bench ingest`'s rows went from 73–76 to 63–66 µs of CPU per LLM span. Rows that carry the
 * vector itself still store it as written. `reinterpret` to an Array needs ClickHouse 25.7 or later (docs/scale-out.md).
 */
export const binaryFloats: Migration = {
  version: 12,
  name: 'binary-floats',
  minServerVersion: [25, 7],
  statements: (ctx: DdlContext) =>
    columnTables(ctx, 'llm_calls').flatMap((table) =>
      BINARY_FLOAT_COLUMNS.flatMap((column) => [
        `ALTER TABLE ${table}${onCluster(ctx)} ADD COLUMN IF NOT EXISTS ${binaryInput(column)} String EPHEMERAL`,
        `ALTER TABLE ${table}${onCluster(ctx)} MODIFY COLUMN ${column} Array(Float32) ` +
          `DEFAULT reinterpret(base64Decode(${binaryInput(column)}), 'Array(Float32)') CODEC(ZSTD(1))`,
      ]),
    ),
};

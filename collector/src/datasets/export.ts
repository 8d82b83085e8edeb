import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { queryRows } from '../storage/clickhouse.js';
import type { ChatMessage } from './create.js';
import { showDataset } from './create.js';

/** Items per read: a few MB of JSON at most. */
const EXPORT_PAGE = 2_000;

export const EXPORT_FORMATS = ['openai', 'anthropic', 'hf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportSplit = 'train' | 'validation' | 'all';

/**
 * One dataset item as a JSONL line:
 * - `openai`: chat fine-tuning format, `{"messages": [{role, content}…]}` (system first, last turn
 *   from the assistant).
 * - `anthropic`: `{"system": "…", "messages": [{role: user|assistant, content}…]}` (the system
 *   prompt is a top-level field, turns alternate starting with the user).
 * - `hf`: TRL's conversational format, `{"messages": […]}` plus the split and the item id.
 */
export function formatItem(
  format: ExportFormat,
  messages: ChatMessage[],
  itemId: string,
  split: string,
): string {
  if (format === 'anthropic') {
    const system = messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    const turns: ChatMessage[] = [];
    for (const m of messages) {
      if (m.role === 'system') continue;
      const previous = turns[turns.length - 1];
      // Anthropic requires alternating roles: consecutive turns of one role are merged.
      if (previous && previous.role === m.role) previous.content += `\n\n${m.content}`;
      else turns.push({ ...m });
    }
    return JSON.stringify({ ...(system ? { system } : {}), messages: turns });
  }
  if (format === 'hf') return JSON.stringify({ id: itemId, split, messages });
  return JSON.stringify({ messages });
}

/**
 * Streams the items of a dataset version as JSONL to `out`, in their stored order, a page at a
 * time and waiting for `out` to drain; `onProgress` gets the lines written so far.
 */
export async function exportDataset(
  client: ClickHouseClient,
  project: string,
  req: { name: string; version?: number; format: ExportFormat; split: ExportSplit },
  out: Writable,
  onProgress?: (written: number, total: number) => void,
): Promise<{ version: number; written: number; hash: string }> {
  const manifest = await showDataset(client, project, req.name, req.version);
  const total =
    req.split === 'all'
      ? manifest.counts.items
      : req.split === 'train'
        ? manifest.counts.train
        : manifest.counts.validation;
  // Pages of positions rather than one streamed result: the embedded engine hands a query's whole
  // result over at once, so this is what keeps memory flat at any size.
  let written = 0;
  for (let from = 0; from < manifest.counts.items; from += EXPORT_PAGE) {
    const rows = await queryRows<{ ItemId: string; Split: string; Messages: string }>(
      client,
      `SELECT ItemId, Split, Messages FROM dataset_items
       WHERE ProjectId = {project:String} AND Dataset = {name:String} AND Version = {version:UInt32}
         AND ({split:String} = 'all' OR Split = {split:String})
         AND Position >= {from:UInt32} AND Position < {to:UInt32}
       ORDER BY Position`,
      { project, name: req.name, version: manifest.version, split: req.split, from, to: from + EXPORT_PAGE },
    );
    let chunk = '';
    for (const item of rows)
      chunk += `${formatItem(req.format, JSON.parse(item.Messages) as ChatMessage[], item.ItemId, item.Split)}\n`;
    if (chunk && !out.write(chunk)) await once(out, 'drain');
    written += rows.length;
    onProgress?.(written, total);
  }
  return { version: manifest.version, written, hash: manifest.hash };
}

import {
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Everything a collector owns lives under its data directory, so two collectors with sibling
 * directories (`/x/a`, `/x/b`) never share a file, and removing the directory removes it all:
 *
 *   <dataDir>/            embedded ClickHouse (chDB) files
 *   <dataDir>/spool/      acknowledged-but-not-yet-inserted batches (unless ingest.spoolDir)
 *   <dataDir>/insert/     embedded: the body of the insert in progress, for the engine to read
 *   <dataDir>/pii-hash.key  key of the PII value hashes (unless LLMWATCH_PII_HASH_KEY)
 *   <dataDir>/collector.json  the running collector's pid and URL, while it runs
 */
export function dataDirLayout(dataDir: string): {
  root: string;
  spool: string;
  insert: string;
  piiHashKey: string;
  running: string;
} {
  const root = resolve(dataDir);
  return {
    root,
    spool: join(root, 'spool'),
    insert: join(root, 'insert'),
    piiHashKey: join(root, 'pii-hash.key'),
    running: join(root, 'collector.json'),
  };
}

/**
 * Earlier versions kept `spool/` and `pii-hash.key` next to the data directory. Adopts them once
 * (only when the new place is empty and no live process holds the old spool), so an upgrade keeps
 * its PII hashes stable and replays what was acknowledged before it.
 */
export function adoptLegacyFiles(dataDir: string): void {
  const layout = dataDirLayout(dataDir);
  const parent = dirname(layout.root);
  const legacyKey = join(parent, 'pii-hash.key');
  if (!existsSync(layout.piiHashKey) && existsSync(legacyKey) && existsSync(layout.root))
    copyFileSync(legacyKey, layout.piiHashKey);
  const legacySpool = join(parent, 'spool');
  if (existsSync(layout.spool) || !existsSync(legacySpool) || !existsSync(layout.root)) return;
  const owner = Number(readFileIfAny(join(legacySpool, 'LOCK')).trim());
  if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) return;
  if (readdirSync(legacySpool).some((name) => name !== 'LOCK')) renameSync(legacySpool, layout.spool);
}

/** What `collector.json` records about the collector that holds a data directory. */
export interface RunningCollectorRecord {
  pid: number;
  url: string;
}

export function writeRunningRecord(dataDir: string, record: RunningCollectorRecord): void {
  writeFileSync(dataDirLayout(dataDir).running, `${JSON.stringify(record)}\n`);
}

export function removeRunningRecord(dataDir: string): void {
  rmSync(dataDirLayout(dataDir).running, { force: true });
}

/** The collector that holds `dataDir` now, if its record names a live process. */
export function runningCollectorOf(dataDir: string): RunningCollectorRecord | undefined {
  const text = readFileIfAny(dataDirLayout(dataDir).running);
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as Partial<RunningCollectorRecord>;
    if (typeof record.pid !== 'number' || typeof record.url !== 'string') return undefined;
    return isAlive(record.pid) ? { pid: record.pid, url: record.url } : undefined;
  } catch {
    return undefined;
  }
}

function readFileIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a process with this pid runs (EPERM: it does, but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { modelFamily } from '@llmwatch/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openClickHouse, queryRows } from './clickhouse.js';
import { modelFamilySql, modelFilterSql } from './model-family.js';

let dir: string;
let db: ClickHouseClient;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'llmwatch-family-'));
  db = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
});
afterAll(async () => {
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

const IDS = [
  'gpt-4o-mini-2024-07-18',
  'GPT-4o-mini',
  'gpt-4o',
  'gpt-4-0613',
  'claude-3-5-sonnet-20241022',
  'mistral-large-latest',
  'gemini-2.0-flash-001',
  'o3-mini',
  "it's-v2",
];

it('SQL and core compute the same model family', async () => {
  const rows = await queryRows<{ family: string }>(
    db,
    `SELECT ${modelFamilySql('id')} AS family FROM (SELECT arrayJoin({ids:Array(String)}) AS id)`,
    { ids: IDS },
  );
  expect(rows.map((r) => r.family)).toEqual(IDS.map(modelFamily));
});

it('a model filter matches the dated response model, the request model and the family', async () => {
  const rows = await queryRows<{ hit: number }>(
    db,
    `SELECT ${modelFilterSql('{model:String}')} AS hit
     FROM (SELECT 'gpt-4o-mini-2024-07-18' AS Model, '' AS RequestModel, 'gpt-4o-mini-2024-07-18' AS ResponseModel)`,
    { model: 'gpt-4o-mini' },
  );
  expect(rows).toEqual([{ hit: 1 }]);
  const other = await queryRows<{ hit: number }>(
    db,
    `SELECT ${modelFilterSql('{model:String}')} AS hit
     FROM (SELECT 'gpt-4o-mini-2024-07-18' AS Model, '' AS RequestModel, '' AS ResponseModel)`,
    { model: 'gpt-4o' },
  );
  expect(other).toEqual([{ hit: 0 }]);
});

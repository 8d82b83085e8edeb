import { MODEL_SNAPSHOT_SUFFIX } from '@llmwatch/core';

/**
 * The model family of a column or parameter in SQL, by the same rule as core's `modelFamily`
 * (lower case, snapshot markers such as `-2024-07-18` removed), so `model=gpt-4o-mini` and report
 * rows match dated response models and undated request models alike.
 */
export function modelFamilySql(expr: string): string {
  const pattern = MODEL_SNAPSHOT_SUFFIX.replaceAll('\\', '\\\\').replaceAll("'", "\\'");
  return `replaceRegexpOne(lower(trim(${expr})), '${pattern}', '')`;
}

/**
 * A `model` filter: the call's model, request model or response model is `param`, or its model
 * family is `param`'s family.
 */
export function modelFilterSql(param: string): string {
  return `(Model = ${param} OR RequestModel = ${param} OR ResponseModel = ${param}
    OR ${modelFamilySql('Model')} = ${modelFamilySql(param)})`;
}

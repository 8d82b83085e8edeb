export { PRICE_VERSION, PRICES } from './table.js';
export type { ModelPrice, PriceEntry } from './table.js';
export { canonicalModelId } from './match.js';
export { priceCall, costOf, findPrice, priceOverridesSchema, modelPriceSchema } from './price.js';
export type { PriceUsage, PriceResult, PriceOverrides, ModelPriceOverride } from './price.js';

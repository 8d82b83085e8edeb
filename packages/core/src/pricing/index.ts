export { PRICE_VERSION, PRICES } from './table.js';
export type { ModelPrice, PriceEntry } from './table.js';
export { canonicalModelId } from './match.js';
export {
  priceCall,
  costOf,
  findPrice,
  gpuRateFor,
  gpuTimeCost,
  priceOverridesSchema,
  modelPriceSchema,
  gpuRateSchema,
} from './price.js';
export type { PriceUsage, PriceResult, PriceOverrides, ModelPriceOverride, GpuRate } from './price.js';

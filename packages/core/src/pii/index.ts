export { scanText, redactText } from './scan.js';
export { PII_TYPES } from './types.js';
export type { PiiType, PiiFinding, PiiScanOptions } from './types.js';

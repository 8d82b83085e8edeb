/** The kinds of personal data and secrets llmwatch detects. */
export type PiiType = 'email' | 'phone' | 'credit_card' | 'us_ssn' | 'iban' | 'ip_address' | 'secret';

export const PII_TYPES: readonly PiiType[] = [
  'email',
  'phone',
  'credit_card',
  'us_ssn',
  'iban',
  'ip_address',
  'secret',
];

/** One detected value: `text.slice(start, end)` is the value (JS string indices, end exclusive). */
export interface PiiFinding {
  type: PiiType;
  start: number;
  end: number;
}

export interface PiiScanOptions {
  /** Only these types are reported. @default every type */
  types?: readonly PiiType[];
  /** Extra secret formats (e.g. an internal token prefix); each match is reported as `secret`. */
  customSecretPatterns?: readonly RegExp[];
}

export * from './enums.js';
export * from './manifest.js';
export { RUNTIME_COLUMN_NAMES, unsupportedFieldNames, type UnsupportedFieldName } from './field-names.js';
export * from './provider.js';
export * from './problem.js';
export { cronError } from './cron.js';
export {
  ENV_REFERENCE,
  MASK,
  REDACTED,
  connectionStringSecret,
  credentialValues,
  findLiteralSecrets,
  isCredentialParameter,
  redactProblem,
  redactSecrets,
  redactValue,
  scanLiteralSecrets,
  secretKind,
  type LiteralSecrets,
  type ScanOptions,
} from './secrets.js';
export { CONNECTOR_ID, SEMVER } from './patterns.js';
export { LAKE_SCHEMES, MAX_STRING_LENGTH, checkRules, slug } from './rules.js';
export { validateManifest, type ValidationResult } from './validate.js';
export { manifestJsonSchema, providerJsonSchema } from './json-schema.js';

export { FactoryError, type FactoryErrorCode } from './errors.js';
export { parseStructuredText, type ParsedText, type TextPosition } from './source-text.js';
export {
  loadManifestFile,
  validateManifestText,
  type LocatedProblem,
  type ManifestFileResult,
} from './manifest/load-manifest.js';
export { ProviderRegistry, defaultProvidersDirectory, loadProviderRegistry } from './registry/provider-registry.js';
export * from './agents/schema/index.js';

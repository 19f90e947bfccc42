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
export {
  discover,
  findEntities,
  parseDescription,
  type DestinationHint,
  type DiscoverInput,
  type DiscoveryMatch,
  type ScheduleHint,
  type SourceManifest,
  type StrategyHint,
} from './agents/discovery/index.js';
export {
  decryptValues,
  dropConnectorReplication,
  isRuntimeError,
  runConnector,
  type ConnectorOptions,
  type RunSummary,
} from './runtime.js';
export { composeManifest, type ComposeOptions } from './manifest/compose-manifest.js';
export * from './agents/codegen/index.js';

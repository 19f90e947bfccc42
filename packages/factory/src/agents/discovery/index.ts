export { discover, type DiscoverInput } from './discover.js';
export { closestProviders } from './provider-names.js';
export { findEntities, type EntityOptions } from './description/entity-phrases.js';
export type { EntityMention, ParsedDescription, ProviderMention } from './description/mentions.js';
export { parseDescription } from './description/parse-description.js';
export { redactConnection } from './description/redact-connection.js';
export type { DestinationHint, DiscoveryMatch, ScheduleHint, SourceManifest, StrategyHint } from './source-manifest.js';

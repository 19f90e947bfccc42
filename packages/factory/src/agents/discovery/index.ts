export { discover, closestProviders, type DiscoverInput } from './discover.js';
export {
  findEntities,
  parseDescription,
  redactConnection,
  typoDistance,
  type EntityMention,
  type EntityOptions,
  type ParsedDescription,
  type ProviderMention,
} from './parse-description.js';
export type { DestinationHint, DiscoveryMatch, ScheduleHint, SourceManifest, StrategyHint } from './source-manifest.js';

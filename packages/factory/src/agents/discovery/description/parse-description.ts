import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import { readAuth, readRoleArns } from './auth-phrases.js';
import { parseCursor } from './cursor-phrases.js';
import { readFormat } from './format-phrases.js';
import { hostPatterns, readHosts } from './host-names.js';
import { readIntents } from './intent-phrases.js';
import { readPaths, settleLocations } from './location-phrases.js';
import type { ParsedDescription } from './mentions.js';
import { matchProviders } from './provider-words.js';
import { readQuotedNames } from './quoted-names.js';
import { Scanner } from './scanner.js';
import { parseSchedule } from './schedule-phrases.js';
import { parseTables } from './table-phrases.js';
import { tokenise } from './tokens.js';
import { readEnvReferences, readUrls } from './url-phrases.js';

/**
 * Deterministic reading of a one-sentence description: no model, no network. Phrases that carry their
 * own syntax (URLs, paths, quoted names, schedules, intents, formats, auth) are found first with regular
 * expressions and blanked out, so their words cannot also be read as a provider or an entity; what is
 * left is split into words and matched against the provider registry (names, aliases, typos) and,
 * once the provider is known, against its entities (`findEntities`).
 */

/**
 * Reads a description: every phrase it understands, and the words left for provider and entity matching.
 * The order of the passes is the order of precedence: a phrase read earlier claims its words first.
 */
export function parseDescription(text: string, registry: ProviderRegistry): ParsedDescription {
  const scanner = new Scanner(text);
  const warnings: string[] = [];
  const patterns = hostPatterns(registry);
  const roleArn = readRoleArns(scanner);
  const { locations, connections, urls, providers } = readUrls(scanner, patterns, warnings);
  readEnvReferences(scanner, connections);
  readPaths(scanner, locations);
  const settled = settleLocations(locations);
  providers.push(...readHosts(scanner, patterns));
  const cursor = parseCursor(scanner, warnings);
  const quoted = readQuotedNames(scanner, registry);
  const format = readFormat(scanner, warnings);
  const schedule = parseSchedule(scanner, warnings);
  const tables = parseTables(scanner, registry);
  const intents = readIntents(scanner);
  const auth = readAuth(scanner, roleArn);

  const tokens = tokenise(scanner);
  const used = matchProviders(text, tokens, registry, providers);
  providers.sort((a, b) => a.start - b.start);

  return {
    text,
    tokens: tokens.filter((_, index) => !used.has(index)),
    providers,
    intents,
    ...(schedule ? { schedule } : {}),
    locations: settled,
    connections,
    urls,
    ...(format ? { format } : {}),
    ...(auth ? { auth } : {}),
    quoted,
    tables,
    ...(cursor ? { cursor } : {}),
    warnings,
  };
}

import type { ConnectionMention, ProviderMention, UrlMention } from './mentions.js';
import { matchHost, type HostPattern } from './host-names.js';
import { classifyLocation, type PlacedLocation } from './location-phrases.js';
import { redactConnection, withoutCredentials } from './redact-connection.js';
import { trimTrailingPunctuation, type Scanner } from './scanner.js';

const URL_RE = /\b([a-z][a-z0-9+.-]*):\/\/[^\s'"<>`]+/gi;
const ENV_REF_RE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/** What the URLs of the words are: locations (s3://, file://), API and document URLs, provider hosts, connection strings. */
export interface UrlPhrases {
  readonly locations: PlacedLocation[];
  readonly connections: ConnectionMention[];
  readonly urls: UrlMention[];
  readonly providers: ProviderMention[];
}

/**
 * Reads every URL of the words. Locations and API URLs go into the manifest, so their credentials are
 * dropped (with a warning); a connection string is kept as written for the connection reader, which
 * never prints it.
 */
export function readUrls(scanner: Scanner, patterns: readonly HostPattern[], warnings: string[]): UrlPhrases {
  const text = scanner.text;
  const locations: PlacedLocation[] = [];
  const connections: ConnectionMention[] = [];
  const urls: UrlMention[] = [];
  const providers: ProviderMention[] = [];
  for (const { match, start } of scanner.find(URL_RE)) {
    const written = trimTrailingPunctuation(match[0]);
    const end = start + written.length;
    const scheme = match[1]!.toLowerCase();
    const shown = redactConnection(written);
    const isConnection = !['s3', 's3a', 'file', 'http', 'https'].includes(scheme);
    // Locations and API URLs go into the manifest, so their credentials are dropped here.
    const url = isConnection ? written : withoutCredentials(written);
    if (url !== written)
      warnings.push(`dropped the credentials from "${shown}": they come from env vars (auth.config)`);
    if (scheme === 's3' || scheme === 's3a' || scheme === 'file') {
      const { role, leadStart } = classifyLocation(scanner, start);
      locations.push({
        location: url,
        role: role ?? 'destination',
        decided: role !== undefined,
        words: `${text.slice(leadStart, start)}${shown}`.trim(),
        start: leadStart,
      });
      scanner.claim(leadStart, end);
    } else if (scheme === 'http' || scheme === 'https') {
      scanner.claim(start, end);
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        warnings.push(`ignored "${shown}": not a valid URL`);
        continue;
      }
      if (/\/graphql\/?$/i.test(parsed.pathname) || parsed.hostname.startsWith('graphql.')) {
        urls.push({ url, kind: 'graphql', words: shown, start });
      } else if (/\.(json|ya?ml)$/i.test(parsed.pathname)) {
        urls.push({ url, kind: 'openapi', words: shown, start });
      } else {
        const host = matchHost(parsed.hostname, patterns);
        if (host) {
          providers.push({
            provider: host.provider,
            how: 'host',
            key: parsed.hostname.toLowerCase(),
            distance: 0,
            baseUrl: host.baseUrl,
            placeholders: host.placeholders,
            words: shown,
            start,
          });
        } else {
          urls.push({ url, kind: 'api', words: shown, start });
        }
      }
    } else {
      connections.push({ raw: url, words: shown, start });
      scanner.claim(start, end);
    }
  }
  return { locations, connections, urls, providers };
}

/** Env-var references (`${PG_URL}`): connections named by the variable that holds them. */
export function readEnvReferences(scanner: Scanner, connections: ConnectionMention[]): void {
  for (const { match, start, end } of scanner.find(ENV_REF_RE)) {
    connections.push({ raw: match[0], words: match[0], start });
    scanner.claim(start, end);
  }
}

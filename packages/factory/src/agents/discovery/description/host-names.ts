import type { ProviderDefinition } from '@connector-factory/ir';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { ProviderMention } from './mentions.js';
import type { Scanner } from './scanner.js';

/** A bare host name in the words: `acme.myshopify.com`, `api.stripe.com`. */
const HOST_RE = /(?<![\w@.-])(?:[a-z0-9-]+\.)+[a-z]{2,}(?![\w-])/gi;

export interface HostPattern {
  readonly provider: ProviderDefinition;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

/** Host patterns of the providers whose baseUrl names a specific host (`{instance}.salesforce.com`, `api.stripe.com`). */
export function hostPatterns(registry: ProviderRegistry): HostPattern[] {
  const out: HostPattern[] = [];
  for (const provider of registry.list()) {
    const host = provider.baseUrl !== undefined ? /^https?:\/\/([^/]+)/.exec(provider.baseUrl)?.[1] : undefined;
    if (host === undefined || /^\{\w+\}$/.test(host)) continue;
    const names: string[] = [];
    const source = host
      .split(/(\{\w+\})/)
      .map((part) => {
        const placeholder = /^\{(\w+)\}$/.exec(part);
        if (placeholder) {
          names.push(placeholder[1]!);
          return '([a-z0-9-]+(?:\\.[a-z0-9-]+)*?)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    out.push({ provider, regex: new RegExp(`^${source}$`, 'i'), names });
  }
  return out;
}

interface HostMatch {
  readonly provider: ProviderDefinition;
  readonly baseUrl: string;
  readonly placeholders: Record<string, string>;
}

export function matchHost(host: string, patterns: readonly HostPattern[]): HostMatch | undefined {
  for (const { provider, regex, names } of patterns) {
    const match = regex.exec(host);
    if (!match) continue;
    const placeholders: Record<string, string> = {};
    names.forEach((name, index) => (placeholders[name] = match[index + 1]!.toLowerCase()));
    return { provider, baseUrl: fillPlaceholders(provider.baseUrl!, placeholders), placeholders };
  }
  return undefined;
}

/** Replaces `{name}` placeholders whose value is known; the others stay. */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Host names of the registry's providers among the unclaimed words: each names its provider and fills its base URL. */
export function readHosts(scanner: Scanner, patterns: readonly HostPattern[]): ProviderMention[] {
  const providers: ProviderMention[] = [];
  for (const { match, start, end } of scanner.find(HOST_RE)) {
    const host = matchHost(match[0], patterns);
    if (!host) continue;
    providers.push({
      provider: host.provider,
      how: 'host',
      key: match[0].toLowerCase(),
      distance: 0,
      baseUrl: host.baseUrl,
      placeholders: host.placeholders,
      words: match[0],
      start,
    });
    scanner.claim(start, end);
  }
  return providers;
}

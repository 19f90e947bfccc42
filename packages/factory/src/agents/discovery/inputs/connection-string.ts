import { ENV_REFERENCE, slug, type ProviderDefinition } from '@connector-factory/ir';
import { FactoryError } from '../../../errors.js';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import { hasLiteralSecret, redactConnection } from '../description/redact-connection.js';
import { GENERIC_PROVIDERS, closestProviders, envPrefix } from '../provider-names.js';

/** The provider each URL scheme names. */
const SCHEME_PROVIDERS: Readonly<Record<string, string>> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  pgsql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  s3: 's3',
  s3a: 's3',
  file: 'local-files',
};

/** What a connection string (or env-var reference) says: its provider and the reference the manifest keeps. */
export interface ConnectionFacts {
  readonly provider?: ProviderDefinition;
  /** How the provider was read from it. */
  readonly via: string;
  /** What goes into the manifest: an env-var reference, or a file location. */
  readonly reference: string;
  /** Printable form (password replaced). */
  readonly words: string;
  /** User name or password inside the string, so auth.config need not name them. */
  readonly carriesCredentials: boolean;
  readonly exportHint?: string;
}

/**
 * Reads a connection string or env-var reference. A literal database URL becomes a reference to an env
 * var (it may hold a password, and always holds a host), with a hint to export it; the literal is
 * never returned, and its password never printed.
 */
export function readConnection(
  raw: string,
  registry: ProviderRegistry,
  words: string,
  env: Readonly<Record<string, string | undefined>> = {},
): ConnectionFacts {
  const bare = /^\$?([A-Za-z_][A-Za-z0-9_]*)$/.exec(raw);
  const reference = ENV_REFERENCE.test(raw)
    ? raw
    : bare && /^[A-Z_][A-Z0-9_]*$/.test(bare[1]!)
      ? `\${${bare[1]}}`
      : undefined;
  if (reference !== undefined) {
    const name = reference.slice(2, -1);
    const provider = providerFromVariableName(name, registry);
    const value = env[name];
    return {
      ...(provider !== undefined ? { provider } : {}),
      via: `from the variable name ${name}`,
      reference,
      words,
      carriesCredentials: value !== undefined && /^[a-z][a-z0-9+.-]*:\/\/[^/?#@]*@/i.test(value),
    };
  }
  const url = raw.replace(/^jdbc:/i, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw new FactoryError(
      'invalid_input',
      'the connection is neither a URL (postgresql://…, mysql://…) nor an env-var reference such as ${PG_URL}',
    );
  }
  const base = scheme.split('+')[0]!;
  const providerName = SCHEME_PROVIDERS[base];
  const provider = providerName !== undefined ? registry.find(providerName) : registry.find(base);
  if (provider === undefined) {
    const closest = closestProviders(base, registry);
    throw new FactoryError(
      'not_found',
      `no provider reads ${base}:// connection strings; the closest are ${closest.join(', ')}; to add one, write providers/${slug(base).replace(/_/g, '-')}.yaml (see providers/rest.yaml)`,
    );
  }
  const secret = hasLiteralSecret(url);
  const via = `scheme ${base}://`;
  if (provider.type === 'file' && !secret) return { provider, via, reference: url, words, carriesCredentials: false };
  const variable = `${envPrefix(provider)}_CONNECTION_STRING`;
  const shown = redactConnection(url)
    .replace(':***@', ':<password>@')
    .replace(/=\*\*\*/g, '=<secret>');
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url);
  return {
    provider,
    via,
    reference: `\${${variable}}`,
    words,
    carriesCredentials: userinfo || secret,
    exportHint: secret
      ? `the connection string holds a password, so it is not kept: export ${variable}='${shown}' (with the real password) and the manifest refers to \${${variable}}`
      : `the connection string is not kept in the manifest: export ${variable}='${url}' and the manifest refers to \${${variable}}`,
  };
}

/** PG_URL → postgres, MYSQL_DSN → mysql, KAFKA_BROKERS → kafka; undefined when the name says nothing. */
function providerFromVariableName(name: string, registry: ProviderRegistry): ProviderDefinition | undefined {
  const parts = name.toLowerCase().split('_').filter(Boolean);
  for (let n = Math.min(3, parts.length); n >= 1; n--) {
    for (let i = 0; i + n <= parts.length; i++) {
      const found = registry.find(parts.slice(i, i + n).join(''));
      if (found !== undefined && !GENERIC_PROVIDERS.has(found.provider)) return found;
    }
  }
  return undefined;
}

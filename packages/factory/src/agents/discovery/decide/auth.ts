import type { Auth, AuthConfig, ProviderAuthMethod, ProviderDefinition } from '@connector-factory/ir';
import type { AuthMention, ParsedDescription } from '../description/mentions.js';
import { fillPlaceholders } from '../description/host-names.js';
import type { Inputs } from '../inputs/read-inputs.js';
import type { Notes } from '../notes.js';
import { GENERIC_PROVIDERS, envPrefix } from '../provider-names.js';
import type { NamedProvider } from './named-provider.js';

/**
 * The source's auth: an OpenAPI document's for the generic REST provider, else the method the words ask
 * for (if the provider offers it) with the registry's env-var names; a database URL that carries its
 * credentials needs no separate variables.
 */
export function chooseAuth(
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  named: NamedProvider | undefined,
  inputs: Inputs,
  notes: Notes,
): Auth {
  let auth: Auth;
  if (inputs.openapi?.auth !== undefined && GENERIC_PROVIDERS.has(provider.provider)) {
    auth = inputs.openapi.auth;
  } else {
    const method = chooseAuthMethod(provider, parsed.auth, notes);
    auth = authFor(provider, method, parsed.auth?.roleArn, named?.placeholders ?? {}, notes);
    if (parsed.auth !== undefined) notes.match(parsed.auth.words, `auth ${auth.method}`, parsed.auth.start);
  }
  const { connection } = inputs;
  if (connection === undefined) return auth;
  const credentials = connection.carriesCredentials && provider.type === 'jdbc';
  if (credentials) auth = { method: auth.method, config: {} };
  const meaning = [
    connection.provider !== undefined ? `provider ${provider.provider} (${connection.via})` : undefined,
    `connectionString ${connection.reference}`,
    credentials ? 'credentials travel inside it, so auth.config names none' : undefined,
  ];
  notes.match(connection.words, meaning.filter((part) => part !== undefined).join('; '), inputs.connectionOrder);
  return auth;
}

const TOKEN_METHODS: readonly ProviderAuthMethod[] = ['bearer', 'api_key'];

function chooseAuthMethod(
  provider: ProviderDefinition,
  requested: AuthMention | undefined,
  notes: Notes,
): ProviderAuthMethod {
  const fallback = provider.auth.defaultMethod;
  if (requested === undefined) return fallback;
  const offered: ProviderAuthMethod[] = [fallback, ...(provider.auth.methods ?? [])];
  if (requested.method === 'token') {
    if (TOKEN_METHODS.includes(fallback)) return fallback;
    if (fallback === 'basic' && /TOKEN/.test(provider.auth.basic?.passwordEnvVar ?? '')) return fallback;
    const token = offered.find((m) => TOKEN_METHODS.includes(m));
    if (token !== undefined) return token;
  } else if (requested.method === 'basic' && offered.includes('sasl_ssl')) {
    return 'sasl_ssl';
  } else if (offered.includes(requested.method)) {
    return requested.method;
  }
  notes.warn(
    `${provider.displayName} does not take "${requested.words}" (it offers ${offered.join(', ')}); using ${fallback}`,
  );
  return fallback;
}

/** IR auth for a provider method: env-var names from the registry; SASL/SSL becomes basic. */
function authFor(
  provider: ProviderDefinition,
  method: ProviderAuthMethod,
  roleArn: string | undefined,
  placeholders: Readonly<Record<string, string>>,
  notes: Notes,
): Auth {
  const prefix = envPrefix(provider);
  const a = provider.auth;
  switch (method) {
    case 'oauth2': {
      const oauth = a.oauth2;
      const config: AuthConfig = {
        ...(oauth?.tokenUrl !== undefined ? { tokenUrl: fillPlaceholders(oauth.tokenUrl, placeholders) } : {}),
        clientIdEnvVar: oauth?.clientIdEnvVar ?? `${prefix}_CLIENT_ID`,
        clientSecretEnvVar: oauth?.clientSecretEnvVar ?? `${prefix}_CLIENT_SECRET`,
        scopes: [...(oauth?.scopes ?? [])],
      };
      if (config.tokenUrl === undefined) notes.warn(`${provider.displayName} names no OAuth2 tokenUrl: add it`);
      return { method, config };
    }
    case 'api_key':
      return {
        method,
        config: {
          headerName: a.api_key?.headerName ?? 'X-API-Key',
          apiKeyEnvVar: a.api_key?.apiKeyEnvVar ?? `${prefix}_API_KEY`,
        },
      };
    case 'bearer':
      return { method, config: { tokenEnvVar: a.bearer?.tokenEnvVar ?? `${prefix}_TOKEN` } };
    case 'basic':
      return {
        method,
        config: {
          usernameEnvVar: a.basic?.usernameEnvVar ?? `${prefix}_USERNAME`,
          passwordEnvVar: a.basic?.passwordEnvVar ?? `${prefix}_PASSWORD`,
        },
      };
    case 'sasl_ssl':
      return {
        method: 'basic',
        config: {
          usernameEnvVar: a.sasl_ssl?.usernameEnvVar ?? `${prefix}_USERNAME`,
          passwordEnvVar: a.sasl_ssl?.passwordEnvVar ?? `${prefix}_PASSWORD`,
        },
      };
    case 'iam':
      if (roleArn !== undefined) return { method, config: { roleArn } };
      notes.warn(
        `auth iam: set source.auth.config.roleArn to the role to assume${a.iam?.roleArnEnvVar !== undefined ? ` (the connector can also read it from ${a.iam.roleArnEnvVar})` : ''}, or leave it out to use the default AWS credential chain`,
      );
      return { method, config: {} };
    case 'none':
      return { method, config: {} };
  }
}

import { sourceLocation, type ConnectorManifest } from '@connector-factory/ir';

/**
 * The runtime's PII key variables (runtime `transform/pii.ts`): a hashed or encrypted field needs its
 * key at start-up, so a connector with one requires the variable like any referenced credential.
 */
export const PII_KEY_ENV = { hash: 'CF_PII_HASH_KEY', encrypt: 'CF_PII_ENCRYPTION_KEY' } as const;

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Environment variables a manifest makes the runtime read: `${NAME}` references in the strings it
 * expands (source.connectionString, source.baseUrl, destination.lakePath) and every `*EnvVar` field of
 * the auth config. A `${…}` elsewhere (a table or column name, say) is just text.
 */
export function referencedEnvVars(manifest: ConnectorManifest): string[] {
  const names = new Set<string>();
  const { connectionString, baseUrl } = sourceLocation(manifest.source);
  const expanded = [connectionString, baseUrl, manifest.destination.lakePath];
  for (const text of expanded) {
    for (const match of text?.matchAll(REFERENCE) ?? []) names.add(match[1]!);
  }
  for (const [key, value] of Object.entries(manifest.source.auth.config)) {
    if (key.endsWith('EnvVar') && typeof value === 'string') names.add(value);
  }
  return [...names].sort();
}

/** Every variable the connector needs to start: the referenced ones and, with PII to hash or encrypt, its key. */
export function requiredEnv(manifest: ConnectorManifest): string[] {
  const names = new Set(referencedEnvVars(manifest));
  const handling = manifest.governance.piiHandling;
  const hasPii = manifest.schema.entities.some((entity) => entity.fields.some((field) => field.pii === true));
  if (hasPii && (handling === 'hash' || handling === 'encrypt')) names.add(PII_KEY_ENV[handling]);
  return [...names].sort();
}

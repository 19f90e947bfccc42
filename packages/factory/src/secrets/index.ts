export {
  SECRETS_KEY_VARIABLE,
  SecretStore,
  checkSecretName,
  missingVariablesHint,
  provideVariableHint,
  referencedVariables,
  secretsFile,
  secretsKeyFile,
  withStoredSecrets,
  type SecretEntry,
  type SecretStoreOptions,
} from './secret-store.js';
export {
  keepConnectionSecret,
  literalDatabaseUrl,
  literalDatabaseUrlIn,
  maskDatabaseUrls,
  type KeptConnection,
} from './connection-secret.js';
export { withManifestSecrets } from './manifest-secrets.js';

import type { Auth } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import type { Authenticator } from '../http/authenticator.js';
import { IamAuth, type AwsCredentialProvider } from './iam-auth.js';
import { OAuth2Auth } from './oauth2-auth.js';
import { ApiKeyAuth, BasicAuth, BearerAuth, NoAuth } from './static-auth.js';

/** The environment a connector resolved at start-up: variable name → value. */
export type ResolvedEnv = Readonly<Record<string, string | undefined>>;

export interface AuthenticatorSettings {
  /** IAM: the service's signing name (default execute-api, API Gateway's). */
  readonly awsService?: string;
}

/**
 * Builds the authenticator a manifest's `source.auth` asks for, with credentials from the environment
 * it names. Every missing variable is reported at once, by name (never a value).
 */
export function createAuthenticator(auth: Auth, env: ResolvedEnv, settings: AuthenticatorSettings = {}): Authenticator {
  const { config } = auth;
  const missing: string[] = [];
  const read = (name: string | undefined, field: string): string => {
    if (!name) {
      missing.push(`source.auth.config.${field} (not set)`);
      return '';
    }
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    if (value === undefined || value === '') missing.push(name);
    return value ?? '';
  };
  const done = <T extends Authenticator>(make: () => T): T => {
    if (missing.length)
      throw new RuntimeError(
        'config',
        `${auth.method} auth needs ${missing.join(', ')}: set them in the connector's environment`,
      );
    return make();
  };
  switch (auth.method) {
    case 'none':
      return new NoAuth();
    case 'api_key': {
      const key = read(config.apiKeyEnvVar, 'apiKeyEnvVar');
      return done(() => new ApiKeyAuth(key, { header: config.headerName ?? 'x-api-key' }));
    }
    case 'bearer': {
      const token = read(config.tokenEnvVar, 'tokenEnvVar');
      return done(() => new BearerAuth(token));
    }
    case 'basic': {
      const username = read(config.usernameEnvVar, 'usernameEnvVar');
      const password = read(config.passwordEnvVar, 'passwordEnvVar');
      return done(() => new BasicAuth(username, password));
    }
    case 'oauth2': {
      if (!config.tokenUrl) missing.push('source.auth.config.tokenUrl (not set)');
      const clientId = read(config.clientIdEnvVar, 'clientIdEnvVar');
      const clientSecret = read(config.clientSecretEnvVar, 'clientSecretEnvVar');
      return done(
        () =>
          new OAuth2Auth({
            tokenUrl: config.tokenUrl!,
            grant: { type: 'client_credentials', clientId, clientSecret },
            ...(config.scopes ? { scopes: config.scopes } : {}),
          }),
      );
    }
    case 'iam': {
      const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
      const stsEndpoint = env['AWS_ENDPOINT_URL_STS'] ?? env['AWS_ENDPOINT_URL'];
      return done(
        () =>
          new IamAuth({
            region,
            service: settings.awsService ?? 'execute-api',
            credentials: awsCredentials(env),
            ...(config.roleArn ? { roleArn: config.roleArn } : {}),
            ...(stsEndpoint ? { stsEndpoint } : {}),
          }),
      );
    }
  }
}

/** Keys from the environment when it has them, else the AWS SDK's default chain (profiles, SSO, IMDS, …). */
function awsCredentials(env: ResolvedEnv): AwsCredentialProvider {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId && secretAccessKey) {
    const sessionToken = env['AWS_SESSION_TOKEN'];
    return async () => ({ accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) });
  }
  let chain: AwsCredentialProvider | undefined;
  return async () => {
    if (!chain) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      chain = defaultProvider() as AwsCredentialProvider;
    }
    try {
      return await chain();
    } catch (error) {
      throw new RuntimeError(
        'source_auth',
        'iam auth found no AWS credentials (environment, profile, SSO or instance role)',
        {
          cause: error,
        },
      );
    }
  };
}

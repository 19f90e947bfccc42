export { createAuthenticator, type AuthenticatorSettings, type ResolvedEnv } from './create-authenticator.js';
export { IamAuth, type AwsCredentialProvider, type AwsCredentials, type IamOptions } from './iam-auth.js';
export { signJwtRs256 } from './jwt.js';
export { OAuth2Auth, type OAuth2Grant, type OAuth2Options, type TokenResponseFields } from './oauth2-auth.js';
export { ApiKeyAuth, BasicAuth, BearerAuth, NoAuth } from './static-auth.js';

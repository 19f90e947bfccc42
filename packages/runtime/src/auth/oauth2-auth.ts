import type { AuthMethod } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import type { Authenticator, OutgoingRequest } from '../http/authenticator.js';
import { HttpClient } from '../http/http-client.js';
import { signJwtRs256 } from './jwt.js';

/** How a connector gets its access token (RFC 6749 §4.4 and §6, RFC 7523 §2.1). */
export type OAuth2Grant =
  | {
      readonly type: 'client_credentials';
      readonly clientId: string;
      readonly clientSecret: string;
      /** `body` sends the secret as form fields; `basic` as HTTP Basic (client_secret_basic). */
      readonly clientAuth?: 'body' | 'basic';
    }
  | {
      readonly type: 'refresh_token';
      readonly clientId: string;
      readonly clientSecret?: string;
      readonly refreshToken: string;
      /** Called when the server rotates the refresh token: the connector keeps the new one in its state. */
      readonly onRotate?: (refreshToken: string) => void | Promise<void>;
    }
  | {
      readonly type: 'jwt_bearer';
      /** `iss`: the client id. */
      readonly clientId: string;
      /** `sub`: the user the connector acts for. */
      readonly subject: string;
      /** `aud`: the authorization server (Salesforce: https://login.salesforce.com). */
      readonly audience: string;
      readonly privateKeyPem: string;
    };

export interface OAuth2Options {
  readonly tokenUrl: string;
  readonly grant: OAuth2Grant;
  readonly scopes?: readonly string[];
  /** The client for token requests (default: one of its own, with retries and no credentials). */
  readonly http?: HttpClient;
  /** Renew this long before the token expires (default 60 s). */
  readonly skewMs?: number;
  readonly now?: () => number;
}

/** The token endpoint's answer, without the secrets: what a source may need of it (Salesforce's instance_url). */
export type TokenResponseFields = Readonly<Record<string, unknown>>;

/** Token response fields that are secrets: never kept in tokenResponse. */
const TOKEN_FIELDS = new Set(['access_token', 'refresh_token', 'id_token']);

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/**
 * OAuth 2.0 for a connector: fetches an access token with the configured grant, caches it until shortly
 * before it expires (a token without `expires_in` is kept until the API refuses it), shares one token
 * request between concurrent callers, and gets a new token once when the API answers 401.
 */
export class OAuth2Auth implements Authenticator {
  readonly method: AuthMethod = 'oauth2';
  private token: Token | undefined;
  private pending: Promise<Token> | undefined;
  private refreshToken: string | undefined;
  private readonly http: HttpClient;
  private readonly now: () => number;
  private readonly seen: string[] = [];
  private fields: TokenResponseFields = {};

  constructor(private readonly options: OAuth2Options) {
    this.http = options.http ?? new HttpClient({ retry: { maxAttempts: 4 } });
    this.now = options.now ?? Date.now;
    if (options.grant.type === 'refresh_token') this.refreshToken = options.grant.refreshToken;
  }

  async authorize(request: OutgoingRequest, signal?: AbortSignal): Promise<void> {
    const token = await this.current(signal);
    request.headers['authorization'] = `Bearer ${token.value}`;
  }

  async refresh(signal?: AbortSignal): Promise<boolean> {
    this.token = undefined;
    await this.current(signal);
    return true;
  }

  /** The last token response's other fields (instance_url, scope, token_type, …). */
  get tokenResponse(): TokenResponseFields {
    return this.fields;
  }

  secrets(): readonly string[] {
    const grant = this.options.grant;
    const fixed =
      grant.type === 'client_credentials'
        ? [grant.clientSecret]
        : grant.type === 'refresh_token'
          ? [grant.clientSecret ?? '', grant.refreshToken]
          : [grant.privateKeyPem];
    return [...fixed, ...this.seen].filter((s) => s !== '');
  }

  private async current(signal?: AbortSignal): Promise<Token> {
    const skew = this.options.skewMs ?? 60_000;
    if (this.token && this.token.expiresAt - skew > this.now()) return this.token;
    this.pending ??= this.fetchToken(signal).finally(() => {
      this.pending = undefined;
    });
    this.token = await this.pending;
    return this.token;
  }

  private async fetchToken(signal?: AbortSignal): Promise<Token> {
    const { grant, tokenUrl, scopes } = this.options;
    const form = new URLSearchParams();
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (grant.type === 'client_credentials') {
      form.set('grant_type', 'client_credentials');
      if (grant.clientAuth === 'basic') {
        // RFC 6749 §2.3.1: the id and secret are form-urlencoded before Basic encoding.
        const pair = `${encodeURIComponent(grant.clientId)}:${encodeURIComponent(grant.clientSecret)}`;
        headers['authorization'] = `Basic ${Buffer.from(pair).toString('base64')}`;
      } else {
        form.set('client_id', grant.clientId);
        form.set('client_secret', grant.clientSecret);
      }
    } else if (grant.type === 'refresh_token') {
      form.set('grant_type', 'refresh_token');
      form.set('refresh_token', this.refreshToken ?? grant.refreshToken);
      form.set('client_id', grant.clientId);
      if (grant.clientSecret) form.set('client_secret', grant.clientSecret);
    } else {
      const issuedAt = Math.floor(this.now() / 1000);
      form.set('grant_type', 'urn:ietf:params:oauth:grant-type:jwt-bearer');
      form.set(
        'assertion',
        signJwtRs256(
          { iss: grant.clientId, sub: grant.subject, aud: grant.audience, iat: issuedAt, exp: issuedAt + 180 },
          grant.privateKeyPem,
        ),
      );
    }
    if (scopes?.length) form.set('scope', scopes.join(' '));
    const response = await this.http.send({
      method: 'POST',
      url: tokenUrl,
      headers,
      body: form.toString(),
      accept: [400, 401, 403],
      ...(signal ? { signal } : {}),
    });
    const where = `oauth2 token endpoint ${new URL(tokenUrl).origin}${new URL(tokenUrl).pathname}`;
    let body: Record<string, unknown>;
    try {
      const parsed = response.json();
      body =
        parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as Record<string, unknown>)
          : {};
    } catch (error) {
      if (response.status >= 400) throw refused(where, response.status, {}, []);
      throw error;
    }
    if (response.status >= 400) throw refused(where, response.status, body, this.secrets());
    const accessToken = body['access_token'];
    if (typeof accessToken !== 'string' || accessToken === '')
      throw new RuntimeError('source_protocol', `${where}: the answer has no access_token`, {
        data: { httpStatus: response.status },
      });
    this.seen.push(accessToken);
    const rotated = body['refresh_token'];
    if (
      grant.type === 'refresh_token' &&
      typeof rotated === 'string' &&
      rotated !== '' &&
      rotated !== this.refreshToken
    ) {
      this.refreshToken = rotated;
      this.seen.push(rotated);
      await grant.onRotate?.(rotated);
    }
    this.fields = Object.fromEntries(Object.entries(body).filter(([name]) => !TOKEN_FIELDS.has(name)));
    const expiresIn = Number(body['expires_in']);
    return {
      value: accessToken,
      expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? this.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY,
    };
  }
}

/** A token endpoint's refusal (RFC 6749 §5.2: `error` and `error_description`), never echoing what was sent. */
function refused(
  where: string,
  status: number,
  body: Record<string, unknown>,
  secrets: readonly string[],
): RuntimeError {
  const error = typeof body['error'] === 'string' ? body['error'] : undefined;
  let description = typeof body['error_description'] === 'string' ? body['error_description'].slice(0, 200) : undefined;
  for (const secret of secrets)
    if (description && secret.length >= 4) description = description.split(secret).join('***');
  const code = error === 'invalid_scope' || status === 403 ? 'source_permission' : 'source_auth';
  return new RuntimeError(
    code,
    `${where} refused the credentials: HTTP ${status}${error ? ` ${error}` : ''}${description ? ` (${description})` : ''}`,
    { data: { httpStatus: status } },
  );
}

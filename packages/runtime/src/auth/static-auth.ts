import type { AuthMethod } from '@connector-factory/ir';
import type { Authenticator, OutgoingRequest } from '../http/authenticator.js';

/** No credentials (a public API). */
export class NoAuth implements Authenticator {
  readonly method: AuthMethod = 'none';
  async authorize(): Promise<void> {}
  secrets(): readonly string[] {
    return [];
  }
}

/** An API key in a header (`X-API-Key: …`) or a query parameter (`?api_key=…`). */
export class ApiKeyAuth implements Authenticator {
  readonly method: AuthMethod = 'api_key';
  constructor(
    private readonly key: string,
    private readonly placement: { readonly header: string } | { readonly queryParam: string } = { header: 'x-api-key' },
  ) {}
  async authorize(request: OutgoingRequest): Promise<void> {
    if ('header' in this.placement) request.headers[this.placement.header.toLowerCase()] = this.key;
    else request.url.searchParams.set(this.placement.queryParam, this.key);
  }
  secrets(): readonly string[] {
    return [this.key];
  }
}

/** A fixed bearer token (`Authorization: Bearer …`). */
export class BearerAuth implements Authenticator {
  readonly method: AuthMethod = 'bearer';
  constructor(private readonly token: string) {}
  async authorize(request: OutgoingRequest): Promise<void> {
    request.headers['authorization'] = `Bearer ${this.token}`;
  }
  secrets(): readonly string[] {
    return [this.token];
  }
}

/** HTTP Basic (RFC 7617): user and password, UTF-8, base64. */
export class BasicAuth implements Authenticator {
  readonly method: AuthMethod = 'basic';
  private readonly header: string;
  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {
    this.header = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  async authorize(request: OutgoingRequest): Promise<void> {
    request.headers['authorization'] = this.header;
  }
  secrets(): readonly string[] {
    return [this.password, this.header.slice('Basic '.length)];
  }
}

import type { AuthMethod } from '@connector-factory/ir';

/** A request about to be sent, which an authenticator may add credentials to (headers, query, signature). */
export interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer | undefined;
}

/**
 * Puts a connector's credentials on its requests. The HTTP client calls `authorize` before every attempt
 * and, after a 401, `refresh` once: a source whose token expired early gets one fresh token and one retry.
 */
export interface Authenticator {
  readonly method: AuthMethod;
  authorize(request: OutgoingRequest, signal?: AbortSignal): Promise<void>;
  /** Drops cached credentials and gets new ones; false when there is nothing to refresh. */
  refresh?(signal?: AbortSignal): Promise<boolean>;
  /** Every secret value this authenticator holds or has received, for redaction from messages. */
  secrets(): readonly string[];
}

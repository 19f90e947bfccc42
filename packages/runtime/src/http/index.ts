export type { Authenticator, OutgoingRequest } from './authenticator.js';
export {
  HttpClient,
  type HttpAttempt,
  type HttpClientOptions,
  type HttpMethod,
  type HttpRequest,
  type HttpResponse,
  type ProxySettings,
  type QueryValue,
} from './http-client.js';
export { valueAt } from './json-path.js';
export { nextLink, parseLinkHeader, type Link } from './link-header.js';
export { paginate, type Page, type PageRequest, type PaginateOptions, type Pagination } from './pagination.js';
export { TokenBucket, type RateLimitSettings } from './rate-limiter.js';
export { DEFAULT_RETRY_POLICY, backoffDelay, formatWait, requestedWait, type RetryPolicy } from './retry-policy.js';

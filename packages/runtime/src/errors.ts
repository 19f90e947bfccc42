/** What went wrong in the data plane, by kind; a connector maps kinds to exit statuses and alerts. */
export type RuntimeErrorCode =
  | 'config' // a manifest or option the runtime cannot act on
  | 'store' // the lake store failed (I/O, permissions, network)
  | 'conflict' // a concurrent writer won the race for a commit and retries ran out
  | 'corrupt' // a table's log or commit records cannot be read
  | 'source_unavailable' // the source is down, unreachable, throttling or failing for now: retry later
  | 'source_auth' // the source refused the credentials (refresh them; retrying does not help)
  | 'source_permission' // the credentials are good but lack a right the connector needs
  | 'source_protocol' // the source answered something the connector cannot read (a bad page, a broken body)
  | 'quality' // a batch broke a data quality limit (too much of it went to the quarantine): nothing was committed
  | 'internal';

/** What a source error carries besides its message: the status the source gave, for alerts and retries. */
export interface SourceErrorData {
  /** HTTP status of the response that failed. */
  readonly httpStatus?: number;
  /** SQLSTATE of a database error. */
  readonly sqlstate?: string;
  /** How long the source asked to wait before the next attempt (Retry-After), in milliseconds. */
  readonly retryAfterMs?: number;
}

/** The one error class of the runtime: a code, a message a user can act on, and the cause. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly data: SourceErrorData;
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown; data?: SourceErrorData },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.data = options?.data ?? {};
  }

  /** True when the same call may succeed later without anyone changing anything. */
  get retryable(): boolean {
    return this.code === 'source_unavailable';
  }
}

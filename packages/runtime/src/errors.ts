/** What went wrong in the data plane, by kind; a connector maps kinds to exit statuses and alerts. */
export type RuntimeErrorCode =
  | 'config' // a manifest or option the runtime cannot act on
  | 'store' // the lake store failed (I/O, permissions, network)
  | 'conflict' // a concurrent writer won the race for a commit and retries ran out
  | 'corrupt' // a table's log or commit records cannot be read
  | 'internal';

/** The one error class of the runtime: a code, a message a user can act on, and the cause. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

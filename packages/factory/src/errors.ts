/**
 * What went wrong, by kind. The CLI maps kinds to exit statuses: user mistakes (`invalid_input`,
 * `not_found`) exit 1, `usage` 2, anything else 3. `build_failed` (the package does not install or
 * compile), `tests_failed` (its sandboxed tests fail) and `deploy_failed` (it never became healthy and
 * was rolled back) are the Deploy agent's. CARS refuses with `forbidden` (the actor's role may not do
 * it; exit 4) or `approval_required` (the action waits for, or was refused, an approval; exit 5).
 * The source database refusing us exits 6, whatever its driver: `source_unavailable` (down, unreachable,
 * not accepting connections: retryable), `source_auth` (the user or password is wrong) and
 * `source_permission` (connected, but not allowed); the driver's SQLSTATE rides along when it gave one.
 * `environment` (exit 7): this machine cannot run what was asked, e.g. the demo's embedded database.
 */
export type FactoryErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'usage'
  | 'registry_invalid'
  | 'build_failed'
  | 'tests_failed'
  | 'deploy_failed'
  | 'forbidden'
  | 'approval_required'
  | SourceErrorCode
  | 'environment'
  | 'internal';

/** The source refused the connection or the query: the cause, independent of the driver. */
export type SourceErrorCode = 'source_unavailable' | 'source_auth' | 'source_permission';

export const SOURCE_ERROR_CODES: readonly SourceErrorCode[] = [
  'source_unavailable',
  'source_auth',
  'source_permission',
];

/** The one error class of the factory: a code, a message a user can act on, and optional details. */
export class FactoryError extends Error {
  override readonly name = 'FactoryError';
  /** The SQLSTATE the source database answered with (`28P01`, `42501`, …), for the source_* codes. */
  readonly sqlstate: string | undefined;
  constructor(
    readonly code: FactoryErrorCode,
    message: string,
    readonly details: readonly string[] = [],
    options?: { cause?: unknown; sqlstate?: string },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.sqlstate = options?.sqlstate;
  }

  /** Trying again later may succeed: the source was down or unreachable, nothing is misconfigured. */
  get retryable(): boolean {
    return this.code === 'source_unavailable';
  }
}

/** True for the source_* codes: the source database refused, not the factory or the user's input. */
export function isSourceError(error: unknown): error is FactoryError & { code: SourceErrorCode } {
  return error instanceof FactoryError && (SOURCE_ERROR_CODES as readonly string[]).includes(error.code);
}

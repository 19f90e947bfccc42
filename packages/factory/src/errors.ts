/**
 * What went wrong, by kind. The CLI maps kinds to exit statuses: user mistakes (`invalid_input`,
 * `not_found`) exit 1, `usage` 2, anything else 3. `build_failed` (the package does not install or
 * compile), `tests_failed` (its sandboxed tests fail) and `deploy_failed` (it never became healthy and
 * was rolled back) are the Deploy agent's. CARS refuses with `forbidden` (the actor's role may not do
 * it; exit 4) or `approval_required` (the action waits for, or was refused, an approval; exit 5).
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
  | 'internal';

/** The one error class of the factory: a code, a message a user can act on, and optional details. */
export class FactoryError extends Error {
  override readonly name = 'FactoryError';
  constructor(
    readonly code: FactoryErrorCode,
    message: string,
    readonly details: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

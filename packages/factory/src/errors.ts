/**
 * What went wrong, by kind. The CLI maps kinds to exit statuses: user mistakes (`invalid_input`,
 * `not_found`) exit 1, `usage` 2, anything else 3.
 */
export type FactoryErrorCode = 'invalid_input' | 'not_found' | 'usage' | 'registry_invalid' | 'internal';

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

import type { RuntimeErrorCode } from '../errors.js';

/**
 * What a driver error means for the connector: the runtime code (a `source_*` one when the source refused
 * or is away) and the SQLSTATE it reported. Each source kind classifies its own driver's errors with a
 * table of codes (never the message), so the run loop can retry on the code.
 */
export interface DriverErrorClass {
  readonly code: RuntimeErrorCode;
  /** The five-character SQLSTATE the server reported, if any. */
  readonly sqlstate?: string;
  /** The driver's own code (a SQLSTATE, a MySQL ER_* name, a Node network code), for messages. */
  readonly driverCode?: string;
}

/** Node's socket and DNS errors: the server is down, unreachable or dropped the connection. */
export const NETWORK_UNAVAILABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
]);

/** The driver's code: its `code`, or the first code inside an AggregateError (a refusal on every address). */
export function driverCodeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && code !== '') return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = driverCodeOf(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return undefined;
}

/** A five-character SQLSTATE, or undefined. */
export function asSqlstate(value: unknown): string | undefined {
  return typeof value === 'string' && /^[0-9A-Z]{5}$/.test(value) ? value : undefined;
}

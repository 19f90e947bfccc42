import { RuntimeError, type RuntimeErrorCode } from '../../errors.js';
import { asSqlstate, driverCodeOf, NETWORK_UNAVAILABLE_CODES, type DriverErrorClass } from '../driver-errors.js';

/** The server refused who we are (1045, 1698). */
const AUTH_ERRORS = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);

/** Connected, but the user lacks a grant (1044, 1142, 1143, 1227). */
const PERMISSION_ERRORS = new Set([
  'ER_DBACCESS_DENIED_ERROR',
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
]);

/** The server is away, restarting, or out of connections; the connection dropped: try again later. */
const UNAVAILABLE_ERRORS = new Set([
  'ER_CON_COUNT_ERROR', // 1040 too many connections
  'ER_TOO_MANY_USER_CONNECTIONS', // 1203
  'ER_SERVER_SHUTDOWN', // 1053
  'ER_SERVER_GONE_ERROR', // 2006
  'ER_SERVER_LOST', // 2013
  'ER_CONNECTION_KILLED', // 1927 (MariaDB)
  'ER_LOCK_WAIT_TIMEOUT', // 1205
  'ER_LOCK_DEADLOCK', // 1213
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
]);

/** What the manifest names does not exist, or a TLS setting the server cannot meet. */
const CONFIG_ERRORS = new Set([
  'ER_BAD_DB_ERROR',
  'ER_NO_SUCH_TABLE',
  'ER_BAD_FIELD_ERROR',
  'HANDSHAKE_NO_SSL_SUPPORT',
]);

/** A mysql2 or network error by its error name (ER_*, PROTOCOL_*) or socket code; the SQLSTATE from `sqlState`. */
export function classifyMysqlError(error: unknown): DriverErrorClass {
  if (error instanceof RuntimeError) {
    const sqlstate = error.data.sqlstate;
    return { code: error.code, ...(sqlstate !== undefined ? { sqlstate } : {}) };
  }
  const driverCode = driverCodeOf(error);
  const sqlstate = asSqlstate((error as { sqlState?: unknown } | null | undefined)?.sqlState);
  const code = ((): RuntimeErrorCode => {
    if (driverCode === undefined) return 'internal';
    if (AUTH_ERRORS.has(driverCode)) return 'source_auth';
    if (PERMISSION_ERRORS.has(driverCode)) return 'source_permission';
    if (UNAVAILABLE_ERRORS.has(driverCode) || NETWORK_UNAVAILABLE_CODES.has(driverCode)) return 'source_unavailable';
    if (CONFIG_ERRORS.has(driverCode)) return 'config';
    return 'internal';
  })();
  return {
    code,
    ...(driverCode !== undefined ? { driverCode } : {}),
    ...(sqlstate !== undefined ? { sqlstate } : {}),
  };
}

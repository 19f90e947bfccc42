import pg from 'pg';
import { RuntimeError, type RuntimeErrorCode } from '../../errors.js';
import { asSqlstate, driverCodeOf, NETWORK_UNAVAILABLE_CODES, type DriverErrorClass } from '../driver-errors.js';

/** The server refused who we are (invalid_password, invalid_authorization_specification). */
const AUTH_SQLSTATES = new Set(['28P01', '28000']);

/** Connected, but the role lacks a privilege (insufficient_privilege). */
const PERMISSION_SQLSTATES = new Set(['42501']);

/** The server is shutting down, starting up, in recovery, or out of connection slots: try again later. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
]);

/** What the manifest names does not exist (database, table, column, schema, object). */
const CONFIG_SQLSTATES = new Set(['3D000', '42P01', '42703', '3F000', '42704']);

/**
 * A pg or network error by its SQLSTATE or socket code. pg raises its own connection-state errors (the
 * connection ended, a connect timeout, a client no longer queryable) as plain Errors without a code: those
 * are the connection going away, so source_unavailable; its SASL errors (no password to offer) are the
 * credentials.
 */
export function classifyPostgresError(error: unknown): DriverErrorClass {
  if (error instanceof RuntimeError) {
    const sqlstate = error.data.sqlstate;
    return { code: error.code, ...(sqlstate !== undefined ? { sqlstate } : {}) };
  }
  const driverCode = driverCodeOf(error);
  const sqlstate = asSqlstate(driverCode);
  const carried = {
    ...(driverCode !== undefined ? { driverCode } : {}),
    ...(sqlstate !== undefined ? { sqlstate } : {}),
  };
  const code = ((): RuntimeErrorCode => {
    if (sqlstate !== undefined) {
      if (AUTH_SQLSTATES.has(sqlstate) || sqlstate.startsWith('28')) return 'source_auth';
      if (PERMISSION_SQLSTATES.has(sqlstate)) return 'source_permission';
      if (UNAVAILABLE_SQLSTATES.has(sqlstate) || sqlstate.startsWith('08')) return 'source_unavailable';
      if (CONFIG_SQLSTATES.has(sqlstate)) return 'config';
      return 'internal';
    }
    if (driverCode !== undefined) return NETWORK_UNAVAILABLE_CODES.has(driverCode) ? 'source_unavailable' : 'internal';
    if (error instanceof pg.DatabaseError) return 'internal';
    if (error instanceof Error && error.message.startsWith('SASL:')) return 'source_auth';
    // Plain Errors only: a TypeError or RangeError is a bug, not the connection going away.
    return error instanceof Error && error.constructor === Error ? 'source_unavailable' : 'internal';
  })();
  return { code, ...carried };
}

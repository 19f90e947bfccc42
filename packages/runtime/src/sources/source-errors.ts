import type { DriverErrorClass } from './driver-errors.js';
import { classifyMysqlError } from './mysql/mysql-errors.js';
import { classifyPostgresError } from './postgres/postgres-errors.js';

export type { DriverErrorClass } from './driver-errors.js';
export { classifyMysqlError, classifyPostgresError };

/**
 * A SQL driver's error classified by the source kind that owns the driver (`postgres` or `mysql`, as the
 * manifest's provider names them): the one classification the runtime and the factory's schema agent use.
 */
export function classifySqlDriverError(provider: string, error: unknown): DriverErrorClass {
  return provider === 'mysql' || provider === 'mariadb' ? classifyMysqlError(error) : classifyPostgresError(error);
}

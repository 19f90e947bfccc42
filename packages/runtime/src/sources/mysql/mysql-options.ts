import { z } from 'zod';
import { RuntimeError } from '../../errors.js';
import type { Defined } from '../kind.js';
import type { SqlConnectionOptions } from '../source.js';
import { tlsOptions } from '../tls-options.js';

/** The provider names (manifest `source.provider`) the mysql kind reads: MySQL and MariaDB. */
export const MYSQL_PROVIDERS = ['mysql', 'mariadb'] as const;

/** The mysql kind's settings: the connection (TLS apart from the URL) and the chunk size. */
export const mysqlOptions = z.strictObject({
  /** A `mysql://` URL, with `${NAME}` references already expanded and TLS parameters taken out. */
  url: z.string().min(1),
  tls: tlsOptions.optional(),
  /** Rows per query / chunk (default 10 000). */
  chunkRows: z.number().int().positive().optional(),
});

export type MysqlOptions = Defined<z.infer<typeof mysqlOptions>>;

type Tls = NonNullable<SqlConnectionOptions['tls']>;
const TLS_MODES: Record<string, Tls['mode']> = {
  disable: 'disable',
  disabled: 'disable',
  require: 'require',
  required: 'require',
  'verify-ca': 'verify-ca',
  verify_ca: 'verify-ca',
  'verify-full': 'verify-full',
  verify_identity: 'verify-full',
};

/**
 * TLS settings carried in a MySQL connection URL, with libpq's or MySQL's names (`sslmode` / `ssl-mode`,
 * `sslrootcert` / `ssl-ca`, `sslcert` / `ssl-cert`, `sslkey` / `ssl-key`), so a manifest's connection string
 * reference can turn TLS on; the parameters are removed from the URL the driver sees.
 */
export function tlsFromUrl(url: string): { url: string; tls?: Tls } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  const take = (...names: string[]) => {
    for (const name of names) {
      const value = parsed.searchParams.get(name);
      if (value !== null) {
        for (const n of names) parsed.searchParams.delete(n);
        return value;
      }
    }
    return undefined;
  };
  const modeText = take('sslmode', 'ssl-mode', 'ssl_mode');
  const caFile = take('sslrootcert', 'ssl-ca', 'ssl_ca');
  const certFile = take('sslcert', 'ssl-cert', 'ssl_cert');
  const keyFile = take('sslkey', 'ssl-key', 'ssl_key');
  if (modeText === undefined && caFile === undefined && certFile === undefined && keyFile === undefined) return { url };
  const mode = TLS_MODES[(modeText ?? 'verify-full').toLowerCase()];
  if (!mode)
    throw new RuntimeError('config', `unknown TLS mode "${modeText}" (disable, require, verify-ca or verify-full)`);
  return {
    url: parsed.toString(),
    tls: { mode, ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) },
  };
}

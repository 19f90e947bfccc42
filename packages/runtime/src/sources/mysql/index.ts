import { RuntimeError } from '../../errors.js';
import { expandEnv } from '../env.js';
import { defined, type SourceKind } from '../kind.js';
import { MYSQL_PROVIDERS, mysqlOptions, tlsFromUrl, type MysqlOptions } from './mysql-options.js';
import { MysqlSource } from './mysql-source.js';

/**
 * MySQL and MariaDB (`jdbc` providers mysql, mariadb): full refresh in one consistent snapshot,
 * incremental by keyset pages; no log read yet.
 */
export const mysqlKind: SourceKind<MysqlOptions> = {
  kind: 'mysql',
  providers: MYSQL_PROVIDERS,
  options: mysqlOptions.transform((o) => defined(o)),
  optionsOf(manifest, { env, chunkRows, connection }) {
    const { source } = manifest;
    const connectionString = source.type === 'jdbc' ? source.connectionString : undefined;
    if (!connectionString)
      throw new RuntimeError('config', `${manifest.id}: a jdbc source needs source.connectionString`);
    const { url, tls } = tlsFromUrl(connection ?? expandEnv(connectionString, env));
    return { url, ...(chunkRows !== undefined ? { chunkRows } : {}), ...(tls ? { tls } : {}) };
  },
  create: (options) => new MysqlSource(options),
};

export { MysqlSource } from './mysql-source.js';
export { MYSQL_PROVIDERS, mysqlOptions, tlsFromUrl, type MysqlOptions } from './mysql-options.js';

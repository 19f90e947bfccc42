import { RuntimeError } from '../../errors.js';
import { expandEnv } from '../env.js';
import { defined, type SourceKind } from '../kind.js';
import { POSTGRES_PROVIDERS, postgresOptions, type PostgresOptions } from './postgres-options.js';
import { PostgresSource } from './postgres-source.js';

/**
 * PostgreSQL (`jdbc` providers postgres, postgresql): full refresh by COPY (rows, CSV or binary),
 * incremental by keyset pages, log by logical replication (publication and slot named after the connector).
 */
export const postgresKind: SourceKind<PostgresOptions> = {
  kind: 'postgres',
  providers: POSTGRES_PROVIDERS,
  options: postgresOptions.transform((o) => defined(o)),
  optionsOf(manifest, { env, chunkRows, connection }) {
    const { source } = manifest;
    const connectionString = source.type === 'jdbc' ? source.connectionString : undefined;
    if (!connectionString)
      throw new RuntimeError('config', `${manifest.id}: a jdbc source needs source.connectionString`);
    // PostgreSQL reads sslmode/sslrootcert/sslcert/sslkey from the URL itself (libpq's names).
    return {
      url: connection ?? expandEnv(connectionString, env),
      ...(chunkRows !== undefined ? { chunkRows } : {}),
      connectorId: manifest.id,
      slotPerEntity: manifest.schema.entities.length > 1,
      heartbeatSeconds: 10,
    };
  },
  create: (options) => new PostgresSource(options),
};

export { PostgresSource } from './postgres-source.js';
export {
  POSTGRES_PROVIDERS,
  postgresOptions,
  replicationName,
  replicationOf,
  type PostgresOptions,
} from './postgres-options.js';

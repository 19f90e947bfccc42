import { FactoryError } from '../../../../errors.js';

interface JdbcProvider {
  readonly label: string;
  /** The server's default port, for the NetworkPolicy. */
  readonly port: number;
}

/** The databases the runtime's jdbc sources read: the providers of its postgres and mysql kinds (runtime `sources/registry.ts`). */
const PROVIDERS: Readonly<Record<string, JdbcProvider>> = {
  postgres: { label: 'PostgreSQL', port: 5432 },
  postgresql: { label: 'PostgreSQL', port: 5432 },
  mysql: { label: 'MySQL', port: 3306 },
  mariadb: { label: 'MariaDB', port: 3306 },
};

/** The provider's description; a FactoryError for a database the runtime cannot read yet. */
export function jdbcProvider(provider: string): JdbcProvider {
  const found = Object.hasOwn(PROVIDERS, provider) ? PROVIDERS[provider] : undefined;
  if (found === undefined) {
    throw new FactoryError(
      'invalid_input',
      `the jdbc template reads postgres and mysql (mariadb) today, not "${provider}"`,
    );
  }
  return found;
}

export const providerLabel = (provider: string): string => jdbcProvider(provider).label;

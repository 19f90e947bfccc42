import { SOURCE_KINDS, sourceKindOf, type SourceKindName } from '@connector-factory/runtime/source-kinds';
import { FactoryError } from '../../../../errors.js';

interface JdbcProvider {
  readonly label: string;
  /** The server's default port, for the NetworkPolicy. */
  readonly port: number;
}

/**
 * The runtime's source kinds the jdbc template generates connectors for, with what the generated files
 * say of them. Which provider names each kind reads comes from the runtime's registry
 * (`sources/registry.ts`), so a provider a kind gains there is one the template accepts.
 */
const JDBC_KINDS: Readonly<Partial<Record<SourceKindName, JdbcProvider>>> = {
  postgres: { label: 'PostgreSQL', port: 5432 },
  mysql: { label: 'MySQL', port: 3306 },
};

/** Providers whose product name is not their kind's (a MariaDB server is read by the mysql kind). */
const PROVIDER_LABELS: Readonly<Record<string, string>> = { mariadb: 'MariaDB' };

const isJdbcKind = (kind: string): kind is keyof typeof JDBC_KINDS =>
  Object.hasOwn(JDBC_KINDS, kind) && Object.hasOwn(SOURCE_KINDS, kind);

/** The runtime kinds the jdbc template generates for, in registry order. */
const jdbcKinds = () => Object.values(SOURCE_KINDS).filter((kind) => isJdbcKind(kind.kind));

/** The provider names the jdbc template accepts: those of the runtime kinds above, in registry order. */
export function jdbcProviders(): string[] {
  return jdbcKinds().flatMap((kind) => kind.providers);
}

/** The provider's description; a FactoryError for a database the runtime cannot read yet. */
export function jdbcProvider(provider: string): JdbcProvider {
  const kind = sourceKindOf(provider)?.kind;
  const facts = kind !== undefined && isJdbcKind(kind) ? JDBC_KINDS[kind] : undefined;
  if (facts === undefined) {
    const kinds = jdbcKinds().map((k) => k.kind);
    throw new FactoryError(
      'invalid_input',
      `the jdbc template reads ${kinds.join(' and ')} (providers ${jdbcProviders().join(', ')}) today, not "${provider}"`,
    );
  }
  return {
    label: Object.hasOwn(PROVIDER_LABELS, provider) ? PROVIDER_LABELS[provider]! : facts.label,
    port: facts.port,
  };
}

export const providerLabel = (provider: string): string => jdbcProvider(provider).label;

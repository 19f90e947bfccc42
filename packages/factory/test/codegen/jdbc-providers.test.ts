import { SOURCE_KINDS, sourceKindOf } from '@connector-factory/runtime/source-kinds';
import { describe, expect, it } from 'vitest';
import { FactoryError } from '../../src/errors.js';
import { jdbcProvider, jdbcProviders } from '../../src/agents/codegen/templates/jdbc/jdbc-providers.js';

describe('the jdbc template’s providers', () => {
  it('are the providers of the runtime’s postgres and mysql kinds, from its registry', () => {
    expect(jdbcProviders()).toEqual([...SOURCE_KINDS.postgres.providers, ...SOURCE_KINDS.mysql.providers]);
    for (const provider of jdbcProviders()) expect(sourceKindOf(provider)).toBeDefined();
  });

  it('name each provider’s product and default port', () => {
    for (const provider of SOURCE_KINDS.postgres.providers)
      expect(jdbcProvider(provider)).toEqual({ label: 'PostgreSQL', port: 5432 });
    expect(jdbcProvider('mysql')).toEqual({ label: 'MySQL', port: 3306 });
    expect(jdbcProvider('mariadb')).toEqual({ label: 'MariaDB', port: 3306 });
  });

  it('refuse a provider no runtime kind reads, naming the ones it serves', () => {
    expect(() => jdbcProvider('oracle')).toThrow(FactoryError);
    expect(() => jdbcProvider('oracle')).toThrow(
      `the jdbc template reads postgres and mysql (providers ${jdbcProviders().join(', ')}) today, not "oracle"`,
    );
    // Not a kind's name by inheritance from Object.prototype.
    expect(() => jdbcProvider('constructor')).toThrow(FactoryError);
  });
});

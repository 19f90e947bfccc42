import type { ConnectorManifest } from '@connector-factory/ir';
import { describe, expect, it } from 'vitest';
import { createSource, tlsFromUrl } from '../../src/connector/create-source.js';
import { readModeOf, replicationName, replicationNamesOf } from '../../src/connector/read-mode.js';
import { RuntimeError } from '../../src/errors.js';
import { MysqlSource } from '../../src/sources/mysql/mysql-source.js';
import { postgresKind, replicationOf } from '../../src/sources/postgres/index.js';
import { PostgresSource } from '../../src/sources/postgres/postgres-source.js';
import { parseSourceOptions, SOURCE_KINDS, sourceKindOf, sourceProviders } from '../../src/sources/registry.js';
import { pgTestManifest } from './fixtures.js';

describe('tlsFromUrl', () => {
  it('takes TLS settings out of a MySQL URL, with libpq or MySQL names', () => {
    expect(tlsFromUrl('mysql://u:p@db:3306/shop?ssl-mode=VERIFY_IDENTITY&ssl-ca=/etc/ca.pem')).toEqual({
      url: 'mysql://u:p@db:3306/shop',
      tls: { mode: 'verify-full', caFile: '/etc/ca.pem' },
    });
    expect(tlsFromUrl('mysql://u:p@db/shop?sslmode=require')).toEqual({
      url: 'mysql://u:p@db/shop',
      tls: { mode: 'require' },
    });
  });

  it('leaves URLs without TLS settings alone and rejects unknown modes', () => {
    expect(tlsFromUrl('mysql://u:p@db/shop')).toEqual({ url: 'mysql://u:p@db/shop' });
    expect(() => tlsFromUrl('mysql://u:p@db/shop?sslmode=maybe')).toThrow(/unknown TLS mode "maybe"/);
  });
});

describe('the source registry', () => {
  const manifest = () =>
    pgTestManifest('orders', {
      fields: [{ name: 'id', type: 'number', nullable: false }],
      strategy: { updateStrategy: 'full_refresh' },
      destination: { lakePath: '/tmp/lake' },
      schedule: { type: 'continuous' },
    });
  const withSource = (provider: string, connectionString: string, entities = ['orders']): ConnectorManifest => {
    const base = manifest();
    return {
      ...base,
      source: { ...base.source, provider, connectionString } as ConnectorManifest['source'],
      schema: { ...base.schema, entities: entities.map((name) => ({ ...base.schema.entities[0]!, name })) },
    };
  };
  const env = { CF_TEST_URL: 'postgresql://cf:s3cret@db:5432/shop', CF_TEST_MYSQL: 'mysql://cf:s3cret@db/shop' };

  it('has the providers the runtime read before, one kind each', () => {
    expect(Object.keys(SOURCE_KINDS)).toEqual(['postgres', 'mysql']);
    expect(sourceProviders()).toEqual(['mariadb', 'mysql', 'postgres', 'postgresql']);
    expect(sourceKindOf('postgresql')?.kind).toBe('postgres');
    expect(sourceKindOf('mariadb')?.kind).toBe('mysql');
    expect(sourceKindOf('oracle')).toBeUndefined();
  });

  it('creates the kind of the manifest provider, and names a provider no kind reads', async () => {
    for (const provider of ['postgres', 'postgresql']) {
      const source = createSource(withSource(provider, '${CF_TEST_URL}'), env);
      expect(source).toBeInstanceOf(PostgresSource);
      await source.close();
    }
    for (const provider of ['mysql', 'mariadb']) {
      const source = createSource(withSource(provider, '${CF_TEST_MYSQL}?ssl-mode=require'), env);
      expect(source).toBeInstanceOf(MysqlSource);
      await source.close();
    }
    expect(() => createSource(withSource('oracle', '${CF_TEST_URL}'), env)).toThrow(
      /no jdbc source for provider "oracle" \(source kinds: postgres \(postgres, postgresql\), mysql \(mysql, mariadb\)\)/,
    );
    expect(() => createSource(withSource('postgres', '${MISSING_URL}'), env)).toThrow(/MISSING_URL is not set/);
  });

  it('takes the connection a resolved configuration expanded, without expanding it from the environment again', async () => {
    const source = createSource(
      withSource('postgres', '${NOT_IN_ENV}'),
      {},
      { connection: 'postgresql://u@db:5432/x' },
    );
    expect(source).toBeInstanceOf(PostgresSource);
    await source.close();
    const mysql = createSource(withSource('mysql', '${NOT_IN_ENV}'), {}, { connection: 'mysql://u@db:3306/x' });
    expect(mysql).toBeInstanceOf(MysqlSource);
    await mysql.close();
  });

  it('validates a kind’s settings, naming each wrong one and never its value', () => {
    const error = (() => {
      try {
        parseSourceOptions(postgresKind, { url: '', chunkRows: -1, password: 'hunter2-value' });
      } catch (e) {
        return e as RuntimeError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error?.code).toBe('config');
    expect(error?.message).toMatch(/^postgres source options: /);
    expect(error?.message).toMatch(/url: /);
    expect(error?.message).toMatch(/chunkRows: /);
    expect(error?.message).toMatch(/password/);
    expect(error?.message).not.toContain('hunter2-value');
    // Absent settings are left out, not set to undefined.
    expect(parseSourceOptions(postgresKind, { url: 'postgresql://h/db', chunkRows: undefined })).toEqual({
      url: 'postgresql://h/db',
    });
  });

  it('gives a log read its publication and slot from the connector id (a slot per entity when several)', () => {
    expect(replicationOf({ connectorId: 'Orders-Sync' }, { name: 'public.orders' })).toEqual({
      publication: 'cf_orders_sync',
      slot: 'cf_orders_sync',
    });
    expect(replicationOf({ connectorId: 'Orders-Sync', slotPerEntity: true }, { name: 'public.orders' })).toEqual({
      publication: 'cf_orders_sync',
      slot: 'cf_orders_sync_public_orders',
    });
    expect(replicationOf({ publication: 'pub', slot: 'slot' }, { name: 'x' })).toEqual({
      publication: 'pub',
      slot: 'slot',
    });
    expect(() => replicationOf({}, { name: 'orders' })).toThrow(/needs a publication and a slot/);
    const one = withSource('postgres', '${CF_TEST_URL}');
    expect(replicationNamesOf(one, 'orders')).toEqual({
      publication: replicationName(one.id),
      slot: replicationName(one.id),
    });
    const two = withSource('postgres', '${CF_TEST_URL}', ['orders', 'items']);
    expect(replicationNamesOf(two, 'items').slot).toBe(replicationName(two.id, 'items'));
  });

  it('reads a CDC manifest as a log read, stopping when caught up for a single run', () => {
    const cdc = withSource('postgres', '${CF_TEST_URL}');
    const manifestCdc = { ...cdc, schema: { ...cdc.schema, updateStrategy: 'cdc' } } as ConnectorManifest;
    expect(readModeOf(manifestCdc)).toEqual({ strategy: 'log' });
    expect(readModeOf(manifestCdc, { once: true })).toEqual({ strategy: 'log', stopWhenCaughtUp: true });
  });
});

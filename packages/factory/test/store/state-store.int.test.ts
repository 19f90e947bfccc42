import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, openStateStore } from '@connector-factory/factory';
import { stateStoreContract } from './state-store-contract.js';

const PG_URL = process.env['PG_URL'];
if (!PG_URL) throw new Error('PG_URL is not set: run `bash scripts/services.sh start` and `source .services/env`');

const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
afterAll(() => admin.end());

/** The store URL for an isolated schema of the test database. */
function inSchema(schema: string): string {
  const url = new URL(PG_URL!);
  url.searchParams.set('schema', schema);
  return url.toString();
}

function useSchema(): { readonly name: string } {
  const current = { name: '' };
  beforeEach(() => {
    current.name = `cf_test_${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    await admin.query(`drop schema if exists "${current.name}" cascade`);
  });
  return current;
}

describe('state store contract: PostgreSQL', () => {
  const schema = useSchema();
  stateStoreContract(() => openStateStore(inSchema(schema.name)));
});

describe('PostgreSQL state store', () => {
  const schema = useSchema();

  it('keeps its tables in the schema the URL names, and redacts the password in its location', async () => {
    const store = await openStateStore(inSchema(schema.name));
    try {
      const password = new URL(PG_URL!).password;
      expect(password).not.toBe('');
      expect(store.location).not.toContain(password);
      expect(store.location).toMatch(
        new RegExp(`^postgresql://cf:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/cf\\?schema=${schema.name}$`),
      );
      const { rows } = await admin.query<{ table_name: string }>(
        `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
        [schema.name],
      );
      expect(rows.map((r) => r.table_name)).toEqual([
        'cf_alerts',
        'cf_approval_votes',
        'cf_approvals',
        'cf_audit_head',
        'cf_audit_receipts',
        'cf_certifications',
        'cf_connector_registry',
        'cf_deployments',
        'cf_drift_reports',
        'cf_health_checks',
        'cf_metric_snapshots',
        'cf_migration_lock',
        'cf_migrations',
      ]);
    } finally {
      await store.close();
    }
  });

  it('migrates once when several stores open a new schema at the same time', async () => {
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStateStore(inSchema(schema.name))));
    try {
      await Promise.all(
        stores.map((store, i) =>
          store.audit.append({
            action: 'discover',
            agent: 'discovery',
            actor: `a${i}`,
            resource: 'r',
            riskLevel: 'low',
            inputs: {},
            outputs: {},
            result: 'success',
          }),
        ),
      );
      const { rows } = await admin.query(`select name from "${schema.name}".cf_migrations order by name`);
      expect(rows).toEqual([{ name: '0001-initial' }, { name: '0002-monitor-certification' }]);
      expect(await new AuditLog(stores[0]!).verify()).toMatchObject({ ok: true, receipts: 4 });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('names the server it cannot reach without the password, and refuses a schema that is not an identifier', async () => {
    const unreachable = new URL(PG_URL!);
    unreachable.port = '1';
    const error = await openStateStore(unreachable.toString()).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ code: 'invalid_input' });
    expect(error.message).toMatch(/^cannot connect to state store postgresql:\/\/cf:\*\*\*@127\.0\.0\.1:1\/cf: /);
    expect(error.message).not.toContain(new URL(PG_URL!).password);
    await expect(openStateStore(inSchema('x"; drop table y; --'))).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/is not a plain identifier/),
    });
  });
});

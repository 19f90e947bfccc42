/**
 * `create … --connection postgresql://user:password@host/db`, a literal URL typed once, through the real
 * binary: the URL goes into the encrypted secret store, the manifest references it by name, the deployed
 * connector (and the one `serve` restores) reads it from the store, and no file the factory wrote — state
 * database, package, builds, logs, audit receipts, lake — holds the password. PG_URL must be set
 * (scripts/services.sh); the test makes its own login role, with its own password, and drops it after.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factoryHome, health, requirePgUrl, sql, until, untilLakeRows } from './support/factory-home.js';

const adminUrl = requirePgUrl();
const suffix = randomBytes(4).toString('hex');
const role = `cf_secret_${suffix}`;
const table = `secret_orders_${suffix}`;
const connectorId = `connector_postgres_${table}_v1`;
const password = `Pw${randomBytes(12).toString('hex')}`;
const literal = (() => {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password;
  return url.toString();
})();
const database = new URL(adminUrl).pathname.slice(1);
const variable = `POSTGRES_${database.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_CONNECTION_STRING`;
// Nothing in the environment names the connection: it can only come from the secret store.
const { work, cli, serve } = factoryHome('cf-create-secret-', {
  base: Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.endsWith('_CONNECTION_STRING'))),
  config: true,
});

/** Every file under `dir` whose bytes hold `needle`. */
function filesHolding(dir: string, needle: string): string[] {
  const found: string[] = [];
  const bytes = Buffer.from(needle);
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(bytes)) found.push(path);
  }
  return found;
}

const dropSlots = () =>
  sql(
    `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'cf_${connectorId}%' AND NOT active`,
  );

describe('connector-factory create with a literal connection URL', () => {
  beforeAll(async () => {
    await sql(`CREATE ROLE ${role} LOGIN REPLICATION PASSWORD '${password}'`);
    await sql(`GRANT CREATE ON DATABASE "${database}" TO ${role}`);
    await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, total numeric(10,2), placed_at timestamptz DEFAULT now())`);
    await sql(`ALTER TABLE ${table} OWNER TO ${role}`);
    await sql(`INSERT INTO ${table} SELECT g, g * 3 FROM generate_series(1, 40) g`);
  });
  afterAll(async () => {
    cli(['serve', '--stop']);
    await dropSlots().catch(() => undefined);
    await sql(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await sql(`DROP OWNED BY ${role}`).catch(() => undefined);
    await sql(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps the URL in the secret store, deploys a working connector, and writes the password nowhere', async () => {
    const created = cli([
      'create',
      `Stream changes from ${table} table in Postgres`,
      '--connection',
      literal,
      '--lake',
      './lake/orders',
      '--env',
      'dev',
      '--yes',
      '--json',
    ]);
    expect(created.stderr).not.toContain(password);
    expect(created.stdout).not.toContain(password);
    expect(created.stderr).toContain(`in the secret store as ${variable}; the manifest refers to \${${variable}}`);
    expect(created.code, created.stderr).toBe(0);
    const summary = JSON.parse(created.stdout) as Record<string, string>;
    expect(summary.connectorId).toBe(connectorId);
    const manifest = JSON.parse(readFileSync(summary.manifestPath!, 'utf8')) as { source: Record<string, unknown> };
    expect(manifest.source.connectionString).toBe(`\${${variable}}`);
    expect(await health(summary.healthUrl!)).toBe(200);
    await untilLakeRows('rows in the lake', summary.lakeTablePath!, 40);

    const listed = JSON.parse(cli(['secrets', 'list', '--json']).stdout) as { name: string }[];
    expect(listed.map((entry) => entry.name)).toEqual([variable]);

    // The restored connector reads the URL from the store too: the supervisor's environment lacks it.
    expect(cli(['serve', '--stop']).code).toBe(0);
    expect(await health(summary.healthUrl!)).toBe(0);
    const stopServe = serve();
    try {
      await until('the restored connector', async () => (await health(summary.healthUrl!)) === 200);
      await sql(`INSERT INTO ${table} SELECT g, g FROM generate_series(41, 45) g`);
      await untilLakeRows('rows after the restore', summary.lakeTablePath!, 45);
      expect(cli(['undeploy', connectorId]).code).toBe(0);
    } finally {
      await stopServe();
    }

    // The factory home (state database, builds, logs, audit receipts, the store), the package and the
    // lake: no file holds the password.
    expect(filesHolding(work, password)).toEqual([]);
  });

  it('names the export and the secrets command when neither the environment nor the store has the variable', () => {
    const fresh = { CONNECTOR_FACTORY_HOME: join(work, 'other-home') };
    const missing = cli(
      ['deploy', join(work, `connectors/connector-postgres-${table.replace(/_/g, '-')}-v1`), '--env', 'dev'],
      fresh,
    );
    expect(missing).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `error: ${connectorId} reads ${variable}, which neither the environment nor the secret store holds: ` +
        `run \`export ${variable}=…\` or \`connector-factory secrets set ${variable}\`\n`,
    });
    const schema = cli(['schema', '--connection', `\${${variable}}`], fresh);
    expect(schema.code).toBe(1);
    expect(schema.stderr).toContain(
      `environment variable ${variable} is not set (the connection references \${${variable}}): run \`export ${variable}=…\` or \`connector-factory secrets set ${variable}\``,
    );
    // With the store of the first home, the schema agent reads the live table through the stored URL.
    const live = cli(['schema', '--connection', `\${${variable}}`, '--entities', table, '--json']);
    expect(live.stderr).toBe('');
    expect(live.code).toBe(0);
    expect(JSON.parse(live.stdout)).toMatchObject({ entities: [{ name: table }] });
    expect(live.stdout).not.toContain(password);
  });
});

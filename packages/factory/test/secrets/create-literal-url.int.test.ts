/**
 * `create` with a literal database URL written in the sentence itself, up to the written package (the
 * deploy is declined): the URL goes into the secret store, the sentence the agents see names `${NAME}`,
 * the manifest references it, and no file under the factory home or the package holds the password.
 * Runs in a database and with a login role of its own on the PostgreSQL at PG_URL, dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import { createConnector } from '../../src/orchestrator/create-connector.js';
import { loadProviderRegistry } from '../../src/registry/provider-registry.js';
import { SecretStore } from '../../src/secrets/secret-store.js';
import { maskDatabaseUrls } from '../../src/secrets/connection-secret.js';
import { openFactoryContext } from '../support/factory-context.js';
import { databaseUrl, sql, sqlOn } from '../support/live-postgres.js';

const suffix = randomBytes(4).toString('hex');
const database = `cf_secret_db_${suffix}`;
const role = `cf_secret_user_${suffix}`;
const password = `Pw-${randomBytes(10).toString('hex')}`;
const literal = databaseUrl(database, { user: role, password });
const adminDbUrl = databaseUrl(database);
const variable = `POSTGRES_CF_SECRET_DB_${suffix.toUpperCase()}_CONNECTION_STRING`;

let work: string;
let home: string;
let factory: Awaited<ReturnType<typeof openFactoryContext>>;
let context: DeployContext;
const env = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.endsWith('_CONNECTION_STRING'))),
  CONNECTOR_FACTORY_CONFIG: join(work, 'config'),
});

beforeAll(async () => {
  await sql(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await sql(`CREATE DATABASE ${database} OWNER ${role}`);
  await sqlOn(
    adminDbUrl,
    `CREATE TABLE members (id bigint PRIMARY KEY, name text, modified_at timestamptz NOT NULL DEFAULT now());
     ALTER TABLE members OWNER TO ${role};
     INSERT INTO members (id, name) SELECT g, 'm' || g FROM generate_series(1, 5) g;`,
  );
  work = await mkdtemp(join(tmpdir(), 'cf-secret-create-'));
  home = join(work, 'home');
  factory = await openFactoryContext(home);
  context = factory.context;
}, 60_000);

afterAll(async () => {
  await factory?.close();
  await rm(work, { recursive: true, force: true });
  await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await sql(`DROP ROLE IF EXISTS ${role}`);
});

/** Every file under `dir` whose bytes hold `needle`. */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(Buffer.from(needle))) found.push(path);
  }
  return found;
}

/** `create` up to the package; the deploy is declined. The step reports and the error it stops with. */
async function createDeclined(options: { description: string; connection?: string }) {
  const details: string[] = [];
  const stopped = await createConnector(
    {
      ...options,
      environment: 'dev',
      outDir: join(work, 'connectors'),
      force: true,
      registry: await loadProviderRegistry(),
      env: env(),
      workingDir: work,
      confirmDeploy: async () => false,
      progress: (event) => {
        if (event.report?.detail !== undefined) details.push(`${event.step}: ${event.report.detail}`);
      },
    },
    context,
  ).then(
    () => undefined,
    (error: Error) => error,
  );
  return { details, stopped };
}

describe('create with a literal URL', () => {
  it('keeps a URL written in the sentence in the secret store, and the password nowhere else', async () => {
    const { details, stopped } = await createDeclined({
      description: `Copy the members table daily from ${literal}`,
    });
    expect(stopped?.message).toMatch(/^not deployed: the package is in /);
    expect(details[0]).toBe(
      `secret: the connection string is now in the secret store as ${variable}; the manifest refers to \${${variable}}`,
    );
    expect(details.join('\n')).not.toContain(password);
    const manifest = JSON.parse(
      await readFile(join(work, 'connectors', 'connector-postgres-members-v1', 'manifest.json'), 'utf8'),
    ) as { source: { connectionString: string } };
    expect(manifest.source.connectionString).toBe(`\${${variable}}`);
    expect(await new SecretStore({ home, env: env() }).get(variable)).toBe(literal);
    expect(await filesHolding(work, password)).toEqual([]);
  });

  it('reuses the stored name for the same URL given as --connection', async () => {
    const { details, stopped } = await createDeclined({
      description: 'Copy the members table from Postgres daily',
      connection: literal,
    });
    expect(stopped?.message).toMatch(/^not deployed: /);
    expect(details[0]).toBe(
      `secret: the connection string is already in the secret store as ${variable}; the manifest refers to \${${variable}}`,
    );
    expect((await new SecretStore({ home, env: env() }).list()).map((entry) => entry.name)).toEqual([variable]);
    expect(await filesHolding(work, password)).toEqual([]);
  });

  it('masks the password of a URL in a sentence that is printed', () => {
    expect(maskDatabaseUrls(`Copy members from ${literal}, daily`)).toBe(
      `Copy members from ${literal.replace(`:${password}@`, ':***@')}, daily`,
    );
    expect(maskDatabaseUrls('from mysql://app:p%40ss@db/shop?sslpassword=x.')).toBe(
      'from mysql://app:***@db/shop?sslpassword=***.',
    );
  });
});

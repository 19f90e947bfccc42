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
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { resolveActor } from '../../src/cars/actor.js';
import { Cars } from '../../src/cars/cars.js';
import { parsePolicy } from '../../src/cars/policy.js';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import { LocalSupervisor } from '../../src/agents/deploy/local/local-supervisor.js';
import { createConnector } from '../../src/orchestrator/create-connector.js';
import { loadProviderRegistry } from '../../src/registry/provider-registry.js';
import { SecretStore } from '../../src/secrets/secret-store.js';
import { maskDatabaseUrls } from '../../src/secrets/connection-secret.js';
import { openStateStore } from '../../src/store/open-state-store.js';
import type { StateStore } from '../../src/store/state-store.js';
import { requirePgUrl } from '../support/live-postgres.js';

const baseUrl = requirePgUrl();
const suffix = randomBytes(4).toString('hex');
const database = `cf_secret_db_${suffix}`;
const role = `cf_secret_user_${suffix}`;
const password = `Pw-${randomBytes(10).toString('hex')}`;
const literal = (() => {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  url.username = role;
  url.password = password;
  return url.toString();
})();
const adminDbUrl = (() => {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
})();
const variable = `POSTGRES_CF_SECRET_DB_${suffix.toUpperCase()}_CONNECTION_STRING`;

async function run(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

let work: string;
let home: string;
let store: StateStore;
let supervisor: LocalSupervisor;
let context: DeployContext;
const env = (): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.endsWith('_CONNECTION_STRING'))),
  CONNECTOR_FACTORY_CONFIG: join(work, 'config'),
});

beforeAll(async () => {
  await run(baseUrl, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await run(baseUrl, `CREATE DATABASE ${database} OWNER ${role}`);
  await run(
    adminDbUrl,
    `CREATE TABLE members (id bigint PRIMARY KEY, name text, modified_at timestamptz NOT NULL DEFAULT now());
     ALTER TABLE members OWNER TO ${role};
     INSERT INTO members (id, name) SELECT g, 'm' || g FROM generate_series(1, 5) g;`,
  );
  work = await mkdtemp(join(tmpdir(), 'cf-secret-create-'));
  home = join(work, 'home');
  store = await openStateStore(join(home, 'state.db'));
  const policy = parsePolicy('roles:\n  ops: operator\ndefaultRole: viewer\n', join(work, 'policy.yaml'));
  const audit = new AuditLog(store);
  supervisor = new LocalSupervisor({ home });
  context = {
    store,
    target: supervisor,
    cars: new Cars(store, policy, audit),
    audit,
    actor: resolveActor({ flag: 'ops', policy }),
    home,
  };
}, 60_000);

afterAll(async () => {
  await supervisor?.close();
  await store?.close();
  await rm(work, { recursive: true, force: true });
  await run(baseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await run(baseUrl, `DROP ROLE IF EXISTS ${role}`);
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

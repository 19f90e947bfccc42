/**
 * Table names and cursor columns from a sentence to the live catalog, on the real PostgreSQL: tables
 * named like English words (stream, sync, a singular user, member), a schema-qualified sales.order, a
 * name matched by case, number and typo, a cursor column named in the words, and a sentence naming
 * no table; and the same on MariaDB. Each run works in its own databases and drops them afterwards.
 * PG_URL and MARIADB_URL must be set (scripts/services.sh); without them these tests fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import { discover } from '../../src/agents/discovery/discover.js';
import { extractSchema, type ExtractSchemaOptions } from '../../src/agents/schema/extract-schema.js';
import type { EntityQuestion } from '../../src/agents/schema/match-entities.js';
import type { SchemaDefinition } from '../../src/agents/schema/schema-definition.js';
import { FactoryError } from '../../src/errors.js';
import { composeManifest } from '../../src/manifest/compose-manifest.js';
import { loadProviderRegistry, type ProviderRegistry } from '../../src/registry/provider-registry.js';
import { createUntilGenerate } from '../support/create-until.js';
import { openFactoryContext } from '../support/factory-context.js';
import { databaseUrl, requirePgUrl, sql, sqlOn } from '../support/live-postgres.js';

const baseUrl = requirePgUrl();
const database = `cf_tables_${process.pid}_${randomBytes(3).toString('hex')}`;
const VARIABLE = 'PG_TABLE_NAMES_URL';
const dbUrl = databaseUrl(database);
const env = { ...process.env, [VARIABLE]: dbUrl };

let registry: ProviderRegistry;

beforeAll(async () => {
  registry = await loadProviderRegistry();
  await sql(`CREATE DATABASE ${database}`);
  await sqlOn(
    dbUrl,
    `
      CREATE TABLE stream (id int PRIMARY KEY, title text NOT NULL, plays int NOT NULL);
      CREATE TABLE sync (id int PRIMARY KEY, started_at timestamptz NOT NULL, ok boolean NOT NULL);
      CREATE TABLE "user" (id int PRIMARY KEY, login text NOT NULL, modified_at timestamptz NOT NULL);
      CREATE TABLE member (id int PRIMARY KEY, name text NOT NULL,
                           modified_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
      CREATE SCHEMA sales;
      CREATE TABLE sales."order" (id int PRIMARY KEY, total numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL);
      INSERT INTO stream SELECT g, 'song ' || g, g FROM generate_series(1, 5) g;
      INSERT INTO "user" SELECT g, 'login' || g, now() FROM generate_series(1, 5) g;
      INSERT INTO member SELECT g, 'm' || g, now(), now() FROM generate_series(1, 5) g;
      INSERT INTO sales."order" SELECT g, g * 2.5, now() FROM generate_series(1, 5) g;
    `,
  );
}, 60_000);

afterAll(async () => {
  await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

/** Discovery, then the schema agent on what discovery found, as `create` runs them. */
async function fromSentence(
  description: string,
  extra: Pick<ExtractSchemaOptions, 'choose'> = {},
): Promise<SchemaDefinition> {
  const source = await discover({ description, connection: `\${${VARIABLE}}`, env }, registry);
  expect(source.provider).toBe('postgres');
  return extractSchema(
    { type: 'jdbc', provider: 'postgres', connectionString: source.connectionString! },
    {
      env,
      sampleRows: 0,
      match: 'typed',
      ...(source.suggestedEntities.length > 0 ? { entities: source.suggestedEntities } : {}),
      unnamed: source.allEntities === true ? 'all' : 'one',
      ...(source.strategy.namedCursor !== undefined ? { incrementalKey: source.strategy.namedCursor } : {}),
      ...(source.strategy.updateStrategy === 'cdc' ? { wantCdc: true } : {}),
      ...extra,
    },
  );
}

async function failure(work: () => Promise<unknown>): Promise<FactoryError> {
  try {
    await work();
  } catch (error) {
    if (error instanceof FactoryError) return error;
    throw error;
  }
  throw new Error('expected a FactoryError');
}

const names = (definition: SchemaDefinition) => definition.entities.map((entity) => entity.name);

describe('table names that are English words', () => {
  it('"Copy the stream table from postgres to parquet daily" reads stream, and only stream', async () => {
    const definition = await fromSentence('Copy the stream table from postgres to parquet daily');
    expect(names(definition)).toEqual(['stream']);
    expect(definition.updateStrategy).toBe('full_refresh');
  });

  it('"the sync table" reads sync', async () => {
    expect(names(await fromSentence('Load the sync table from Postgres every hour'))).toEqual(['sync']);
  });

  it('"Copy the user table" reads the singular user table, with its cursor', async () => {
    const definition = await fromSentence('Copy the user table from postgres daily');
    expect(names(definition)).toEqual(['user']);
    expect(definition).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'modified_at' });
  });

  it('a schema-qualified name reads that schema and keeps the qualified name', async () => {
    const definition = await fromSentence('Copy sales.order from postgres daily');
    expect(names(definition)).toEqual(['sales.order']);
    expect(definition.entities[0]!.fields.map((f) => f.name)).toEqual(['id', 'total', 'updated_at']);
  });
});

describe('cursor columns', () => {
  it('"incremental on modified_at" is the cursor of member, not a table, over updated_at', async () => {
    const definition = await fromSentence('Load member from Postgres every 15 minutes, incremental on modified_at');
    expect(names(definition)).toEqual(['member']);
    expect(definition).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'modified_at' });
    expect(definition.strategies[0]!.why).toMatch(/modified_at, the cursor named in the description/);
  });

  it('"using … as the cursor" and "by …" name it too', async () => {
    for (const sentence of [
      'Load member from Postgres using modified_at as the cursor',
      'Sync the member table from Postgres by modified_at',
    ]) {
      expect(await fromSentence(sentence)).toMatchObject({
        incrementalKey: 'modified_at',
        entities: [{ name: 'member' }],
      });
    }
  });

  it('a column the table lacks is one clear error naming its columns', async () => {
    const error = await failure(() => fromSentence('Load member from Postgres, incremental on changed_on'));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toBe(
      'no column "changed_on" in table member for the cursor; its columns: id, name, modified_at, updated_at',
    );
  });
});

describe('names matched against the live catalog', () => {
  it.each([
    ['the Member table', /"Member" is member \(the same name in another case\)/],
    ['the members table', /"members" is member \(no table members; member is its singular\)/],
    ['the users table', /"users" is user \(no table users; user is its singular\)/],
    ['the memebr table', /"memebr" is member \(no table memebr; read as a typo, 1 edit\)/],
  ])('"%s" is explained', async (words, note) => {
    const definition = await fromSentence(`Copy ${words} from postgres daily`);
    expect(definition.entities).toHaveLength(1);
    expect(definition.notes.join('\n')).toMatch(note);
  });

  it('a name that matches nothing fails with the list of tables', async () => {
    const error = await failure(() => fromSentence('Copy the invoices table from postgres daily'));
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(
      /^postgres: no table "invoices" at .*; the tables there: member, stream, sync, user$/,
    );
    expect(error.message).not.toContain(new URL(baseUrl).password || '\u0000');
  });

  it("a manifest's names (the default) are exact: a dropped table is no near one", async () => {
    const error = await failure(() =>
      extractSchema(
        { type: 'jdbc', provider: 'postgres', connectionString: `\${${VARIABLE}}` },
        { env, sampleRows: 0, entities: ['members'] },
      ),
    );
    expect(error.code).toBe('not_found');
    expect(error.message).toMatch(/no table "members" .*; the tables there: member, stream, sync, user$/);
  });

  it('on a terminal, a name that matches nothing is asked about', async () => {
    const asked: EntityQuestion[] = [];
    const definition = await fromSentence('Copy the invoices table from postgres daily', {
      choose: async (question) => {
        asked.push(question);
        return 'stream';
      },
    });
    expect(names(definition)).toEqual(['stream']);
    expect(asked).toEqual([
      expect.objectContaining({ asked: 'invoices', tables: ['member', 'stream', 'sync', 'user'] }),
    ]);
  });
});

describe('no table named', () => {
  it('never becomes every table: it fails with the list', async () => {
    const error = await failure(() => fromSentence('Copy from postgres daily'));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(/name the table to read .*: member, stream, sync, user$/);
  });

  it('is asked on a terminal', async () => {
    const definition = await fromSentence('Copy from postgres daily', { choose: async () => 'sync' });
    expect(names(definition)).toEqual(['sync']);
  });

  it('"all tables" reads every table', async () => {
    expect(names(await fromSentence('Copy all tables from postgres daily'))).toEqual([
      'member',
      'stream',
      'sync',
      'user',
    ]);
  });
});

describe('MariaDB', () => {
  const base = process.env.MARIADB_URL;
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const main = `cf_tables_${suffix}`;
  const sales = `cf_sales_${suffix}`;
  const MY = 'MYSQL_TABLE_NAMES_URL';
  let myEnv: NodeJS.ProcessEnv;
  let admin: mysql.Connection;

  beforeAll(async () => {
    if (base === undefined || base === '') throw new Error('MARIADB_URL is not set: start the services');
    const url = new URL(base);
    url.pathname = `/${main}`;
    myEnv = { ...process.env, [MY]: url.toString() };
    admin = await mysql.createConnection({ uri: base, multipleStatements: true });
    await admin.query(`CREATE DATABASE ${main}; CREATE DATABASE ${sales};
      CREATE TABLE ${main}.\`sync\` (id int PRIMARY KEY, modified_at datetime(6) NOT NULL, updated_at datetime(6) NOT NULL);
      CREATE TABLE ${main}.\`user\` (id int PRIMARY KEY, login varchar(40) NOT NULL);
      CREATE TABLE ${sales}.\`order\` (id int PRIMARY KEY, total decimal(10,2) NOT NULL);`);
  }, 60_000);

  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${main}; DROP DATABASE IF EXISTS ${sales}`);
    await admin.end();
  });

  async function mysqlSentence(description: string): Promise<SchemaDefinition> {
    const source = await discover({ description, connection: `\${${MY}}`, env: myEnv }, registry);
    expect(source.provider).toBe('mysql');
    return extractSchema(
      { type: 'jdbc', provider: 'mysql', connectionString: source.connectionString! },
      {
        env: myEnv,
        sampleRows: 0,
        match: 'typed',
        ...(source.suggestedEntities.length > 0 ? { entities: source.suggestedEntities } : {}),
        unnamed: source.allEntities === true ? 'all' : 'one',
        ...(source.strategy.namedCursor !== undefined ? { incrementalKey: source.strategy.namedCursor } : {}),
      },
    );
  }

  it('reads the sync table on the cursor named, the singular user, and a database-qualified order', async () => {
    const sync = await mysqlSentence('Load the sync table from MySQL, incremental on modified_at');
    expect(sync).toMatchObject({
      entities: [{ name: 'sync' }],
      updateStrategy: 'incremental',
      incrementalKey: 'modified_at',
    });
    expect(names(await mysqlSentence('Copy the users table from MySQL daily'))).toEqual(['user']);
    expect(names(await mysqlSentence(`Copy ${sales}.order from MySQL daily`))).toEqual([`${sales}.order`]);
    const none = await failure(() => mysqlSentence('Copy from MySQL daily'));
    expect(none.message).toMatch(/name the table to read .*: sync, user$/);
  });
});

describe('the manifest', () => {
  it('composes member incremental on modified_at, and stream alone as parquet', async () => {
    const compose = async (description: string) => {
      const source = await discover({ description, connection: `\${${VARIABLE}}`, env }, registry);
      const definition = await fromSentence(description);
      return composeManifest(source, definition, { env });
    };
    const member = await compose('Load member from Postgres every 15 minutes, incremental on modified_at');
    expect(member.id).toBe('connector_postgres_member_v1');
    expect(member.schema.entities.map((e) => e.name)).toEqual(['member']);
    expect(member.schema).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'modified_at' });
    const stream = await compose('Copy the stream table from postgres to parquet daily');
    expect(stream.schema.entities.map((e) => e.name)).toEqual(['stream']);
    expect(stream.destination.format).toBe('parquet');
  });
});

describe('create, through the schema step', () => {
  let work: string;
  let factory: Awaited<ReturnType<typeof openFactoryContext>>;
  let context: DeployContext;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cf-table-names-'));
    factory = await openFactoryContext(work);
    context = factory.context;
  });

  afterAll(async () => {
    await factory.close();
    await rm(work, { recursive: true, force: true });
  });

  /** Runs `create` and stops it when code generation starts; returns the schema step's report. */
  async function schemaStep(
    description: string,
    chooseTable?: (question: EntityQuestion) => Promise<string>,
  ): Promise<{ ok: boolean; detail: string }> {
    const { report } = await createUntilGenerate(
      {
        description,
        connection: `\${${VARIABLE}}`,
        environment: 'dev',
        outDir: join(work, 'connectors'),
        registry,
        env,
        workingDir: work,
        ...(chooseTable !== undefined ? { chooseTable } : {}),
      },
      context,
    );
    return report as { ok: boolean; detail: string };
  }

  it('reads member on modified_at, stream alone, the singular user', async () => {
    const member = await schemaStep('Load member from Postgres every 15 minutes, incremental on modified_at');
    expect(member).toMatchObject({ ok: true, detail: expect.stringMatching(/^member \(4 fields\); incremental /) });
    const stream = await schemaStep('Copy the stream table from postgres to parquet daily');
    expect(stream.detail).toMatch(/^stream \(3 fields\); full_refresh → parquet/);
    const user = await schemaStep('Copy the user table from postgres daily');
    expect(user.detail).toMatch(/^user \(3 fields\); incremental /);
  });

  it('a sentence naming no table stops at the schema step with the list, or asks', async () => {
    const stopped = await schemaStep('Copy from postgres daily');
    expect(stopped.ok).toBe(false);
    expect(stopped.detail).toMatch(/^postgres: name the table to read .*: member, stream, sync, user$/);
    const chosen = await schemaStep('Copy from postgres daily', async () => 'user');
    expect(chosen.detail).toMatch(/^user \(3 fields\)/);
  });
});

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorManifest, Field } from '@connector-factory/ir';
import { DeltaLog, PlainLog, openStore } from '@connector-factory/runtime';
import {
  dropConnectorReplication,
  generate,
  vendorRuntime,
  writePackage,
  type RuntimeTarballs,
} from '@connector-factory/factory';

/**
 * A generated package, outside the repository, against a real PostgreSQL: npm install from the
 * registry, strict build, its own tests (the integration test runs: the variables are set), one
 * `npm start -- --once`, then the lake read back with DuckDB and compared with SELECT count(*).
 */

const run = promisify(execFile);
const url = process.env.PG_URL;
const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`.toLowerCase();
const HASH_KEY = 'codegen-int-test-hash-key-0123456789';
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

let root: string;
let tarballs: RuntimeTarballs;
let client: pg.Client;
const cleanups: (() => Promise<unknown>)[] = [];

/** The environment of a generated package's commands: no npm settings of ours, scratch files under root. */
function packageEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
  return { ...env, TMPDIR: join(root, 'tmp'), PORT: '0', ...extra };
}

async function npm(dir: string, args: string[], env: NodeJS.ProcessEnv) {
  return run('npm', args, { cwd: dir, env, maxBuffer: 64 * 1024 * 1024, timeout: 300_000 });
}

function governance(piiHandling: ConnectorManifest['governance']['piiHandling']): ConnectorManifest['governance'] {
  return {
    owner: 'codegen-tests',
    classification: 'internal',
    retentionDays: 7,
    piiHandling,
    contract: { version: '1', slo: { freshnessMinutes: 60, availabilityPercent: 99, errorRatePercent: 1 } },
  };
}

interface Scenario {
  readonly folder: string;
  readonly table: string;
  readonly manifest: ConnectorManifest;
  readonly rows: number;
}

/** Live data files of a table, as its log lists them (delta or the plain formats' log). */
async function liveFiles(tablePath: string, format: string): Promise<string[]> {
  const store = openStore(tablePath);
  if (format === 'delta') {
    const snapshot = await (await DeltaLog.open(store)).snapshot();
    return [...snapshot.files.values()].map((add) => join(tablePath, decodeURIComponent(add.path)));
  }
  const snapshot = await new PlainLog(store).snapshot();
  return [...snapshot.files.keys()].map((path) => join(tablePath, path));
}

/** Row count and column names of the table's live parquet files, read by DuckDB. */
async function readLake(tablePath: string, format: string): Promise<{ rows: number; columns: string[] }> {
  const files = await liveFiles(tablePath, format);
  expect(files.length).toBeGreaterThan(0);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const list = `[${files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ')}]`;
    const count = await connection.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${list})`);
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${list})`);
    return {
      rows: Number(count.getRowObjects()[0]!.n),
      columns: described.getRowObjects().map((row) => String(row.column_name)),
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run with the services (set -a; source .services/env; set +a)');
  root = await mkdtemp(join(tmpdir(), 'cf-codegen-int-'));
  await mkdir(join(root, 'tmp'));
  tarballs = await vendorRuntime();
  client = new pg.Client(url);
  await client.connect();
}, 300_000);

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await client?.end();
  if (root) await rm(root, { recursive: true, force: true });
});

async function checkPackage(scenario: Scenario): Promise<void> {
  const { manifest, folder, table, rows } = scenario;
  const pkg = await generate(manifest, { runtimeTarballs: tarballs });
  const dir = await writePackage(pkg, join(root, folder));
  const env = packageEnv({ POSTGRES_CONNECTION_STRING: url!, CF_PII_HASH_KEY: HASH_KEY });

  await npm(dir, ['install', '--no-audit', '--no-fund'], env);
  await npm(dir, ['run', 'build'], env);

  // The package's own tests: offline ones and the integration test against the real source.
  const tested = await npm(dir, ['test'], env).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`npm test failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  expect(tested.stdout).toMatch(/^# fail 0$/m);
  expect(tested.stdout).toMatch(/^# skipped 0$/m);
  expect(tested.stdout).toMatch(/^ok \d+ - syncs .* into a fresh lake table holding every source row$/m);

  // A missing credential: one clear line, exit 1, no value printed.
  const bare = packageEnv({ CF_PII_HASH_KEY: HASH_KEY });
  delete bare.POSTGRES_CONNECTION_STRING;
  const missing = await run(process.execPath, ['dist/index.js', '--once'], { cwd: dir, env: bare }).catch(
    (error: { code?: number; stderr?: string }) => error,
  );
  expect((missing as { code?: number }).code).toBe(1);
  expect((missing as { stderr: string }).stderr.trim().split('\n')).toEqual([
    expect.stringMatching(/^error: missing environment variable POSTGRES_CONNECTION_STRING/),
  ]);

  // One sync, as an operator runs it.
  const started = await npm(dir, ['start', '--', '--once'], env);
  const summary = JSON.parse(started.stdout.trim().split('\n').at(-1)!) as { ok: boolean; rowsWritten: number };
  expect(summary.ok).toBe(true);

  const { rows: sourceRows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${quote(table)}`);
  expect(sourceRows[0]!.n).toBe(rows);
  const lake = await readLake(manifest.destination.lakePath, manifest.destination.format);
  expect(lake.rows).toBe(rows);
  for (const field of manifest.schema.entities[0]!.fields) expect(lake.columns).toContain(field.name);
}

describe('a generated package, built and run outside the repository', () => {
  it('syncs a PostgreSQL table incrementally into a local parquet lake', async () => {
    const table = `cf_codegen_orders_${suffix}`;
    await client.query(
      `CREATE TABLE ${quote(table)} (id bigint PRIMARY KEY, customer text NOT NULL, email text, total numeric(12,2) NOT NULL, paid boolean NOT NULL, placed date, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    cleanups.push(() => client.query(`DROP TABLE IF EXISTS ${quote(table)}`));
    await client.query(
      `INSERT INTO ${quote(table)} (id, customer, email, total, paid, placed) SELECT g, 'c' || g, 'u' || g || '@example.com', g * 1.25, g % 2 = 0, DATE '2025-01-01' + g % 30 FROM generate_series(1, 2500) g`,
    );
    const fields: Field[] = [
      { name: 'id', type: 'number', nullable: false },
      { name: 'customer', type: 'string', nullable: false },
      { name: 'email', type: 'string', nullable: true, pii: true },
      { name: 'total', type: 'number', nullable: false },
      { name: 'paid', type: 'boolean', nullable: false },
      { name: 'placed', type: 'date', nullable: true },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ];
    const manifest: ConnectorManifest = {
      id: `connector_postgres_cg${suffix}_v1`,
      name: 'Codegen orders',
      version: '1.0.0',
      source: {
        type: 'jdbc',
        provider: 'postgres',
        connectionString: '${POSTGRES_CONNECTION_STRING}',
        auth: { method: 'basic', config: {} },
      },
      schema: {
        entities: [{ name: table, primaryKey: ['id'], fields }],
        updateStrategy: 'incremental',
        incrementalKey: 'updated_at',
      },
      destination: {
        lakePath: join(root, 'lake-orders'),
        format: 'parquet',
        compression: 'zstd',
        partitionBy: ['dt'],
        writeMode: 'append',
      },
      schedule: { type: 'cron', expression: '0 */15 * * * *' },
      governance: governance('hash'),
    };
    await checkPackage({ folder: 'orders', table, manifest, rows: 2500 });
  }, 600_000);

  it('syncs a table with hostile names by CDC into a local delta lake, and writes nowhere else', async () => {
    const table = `../../etc/passwd "q" \`t\` \${x} */ ü ${suffix}`;
    const columns: [string, string, Field['type']][] = [
      ['id', 'integer PRIMARY KEY', 'number'],
      [`quote"d'`, 'text', 'string'],
      ['back`tick', 'text', 'string'],
      ['${process.exit(1)}', 'integer', 'number'],
      ['*/ end', 'text', 'string'],
      ['new\nline', 'text', 'string'],
      ['ünïcødé', 'text', 'string'],
      ['class', 'text', 'string'],
      ['delete', 'numeric(12,2)', 'number'],
      ['../../etc/passwd', 'text', 'string'],
      ['constructor', 'boolean', 'boolean'],
      ['__proto__', 'text', 'string'],
      ['select', 'text', 'string'],
    ];
    await client.query(`CREATE TABLE ${quote(table)} (${columns.map(([n, t]) => `${quote(n)} ${t}`).join(', ')})`);
    cleanups.push(() => client.query(`DROP TABLE IF EXISTS ${quote(table)}`));
    await client.query(
      `INSERT INTO ${quote(table)} SELECT g, 'q' || g, 'b', g, '*/', E'a\\nb', 'ü', 'c', g / 3.0, '/etc', g % 2 = 0, 'p' || g, 's' FROM generate_series(1, 1500) g`,
    );
    const manifest: ConnectorManifest = {
      id: `connector_postgres_hostile${suffix}_v1`,
      name: 'Hostile `names` */ ${process.exit(1)}',
      version: '1.0.0',
      source: {
        type: 'jdbc',
        provider: 'postgres',
        connectionString: '${POSTGRES_CONNECTION_STRING}',
        auth: { method: 'basic', config: {} },
      },
      schema: {
        entities: [
          {
            name: table,
            primaryKey: ['id'],
            fields: columns.map(([name, type, kind]) => ({
              name,
              type: kind,
              nullable: !type.includes('PRIMARY'),
              ...(name === 'ünïcødé' ? { pii: true } : {}),
            })),
          },
        ],
        updateStrategy: 'cdc',
        cdcConfig: { cursorField: 'lsn', cursorType: 'log_position' },
      },
      destination: {
        lakePath: join(root, 'lake-hostile'),
        format: 'delta',
        compression: 'zstd',
        partitionBy: [],
        writeMode: 'merge',
        mergeKeys: ['id'],
      },
      schedule: { type: 'continuous' },
      governance: governance('hash'),
    };
    cleanups.push(() => dropConnectorReplication(manifest, { POSTGRES_CONNECTION_STRING: url! }));
    await checkPackage({ folder: 'hostile', table, manifest, rows: 1500 });

    // Nothing outside the packages, the lakes and the scratch folder; no path a name spelled exists.
    const allowed = ['hostile', 'lake-hostile', 'lake-orders', 'orders', 'tmp'];
    expect((await readdir(root)).filter((entry) => !allowed.includes(entry))).toEqual([]);
    for (const escaped of [resolve(root, '..', 'etc'), resolve(root, 'lake-hostile', '..', '..', 'etc', 'passwd')]) {
      expect(existsSync(escaped), escaped).toBe(false);
    }
  }, 600_000);
});

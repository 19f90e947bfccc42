/**
 * The Deploy agent compares a hand-written manifest's field types with the live PostgreSQL catalog
 * before it builds anything: a text[] column declared string (its arrays would all go to the
 * quarantine) is refused with the column named. PG_URL must be set (scripts/services.sh).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorManifest, Field, FieldType } from '@connector-factory/ir';
import { openFactoryContext } from '../support/factory-context.js';
import { requirePgUrl, sql } from '../support/live-postgres.js';
import { tableManifest } from '../support/table-manifest.js';
import { sourceTypeMismatches, typeFits } from '../../src/agents/deploy/check-source-types.js';
import { deployConnector, type DeployContext } from '../../src/agents/deploy/deploy.js';
import { FactoryError } from '../../src/errors.js';

requirePgUrl();
const table = `cf_types_${randomBytes(4).toString('hex')}`;

const manifest = (fields: Field[]): ConnectorManifest => tableManifest(table, fields);

const field = (name: string, type: FieldType): Field => ({ name, type, nullable: name !== 'id' });

describe('typeFits', () => {
  it('takes the same type, anything as json, all but json as string, a date as a datetime', () => {
    expect(typeFits('number', 'number')).toBe(true);
    expect(typeFits('json', 'string')).toBe(true);
    expect(typeFits('string', 'number')).toBe(true);
    expect(typeFits('string', 'datetime')).toBe(true);
    expect(typeFits('datetime', 'date')).toBe(true);
    expect(typeFits('string', 'json')).toBe(false);
    expect(typeFits('number', 'string')).toBe(false);
    expect(typeFits('date', 'datetime')).toBe(false);
    expect(typeFits('boolean', 'number')).toBe(false);
  });
});

describe('deploy checks the manifest types against the live catalog', () => {
  let work: string;
  let factory: Awaited<ReturnType<typeof openFactoryContext>>;
  let context: DeployContext;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cf-types-'));
    await sql(
      `CREATE TABLE ${table} (id int PRIMARY KEY, tags text[], total int4, placed date, at timestamptz, note text)`,
    );
    factory = await openFactoryContext(work);
    context = factory.context;
  });

  afterAll(async () => {
    await factory?.close();
    await sql(`DROP TABLE IF EXISTS ${table}`);
    await rm(work, { recursive: true, force: true });
  });

  it('refuses a text[] column declared string, naming the column, before building', async () => {
    const dir = join(work, 'package');
    await mkdir(dir, { recursive: true });
    const m = manifest([
      field('id', 'number'),
      field('tags', 'string'),
      field('total', 'number'),
      field('placed', 'datetime'),
      field('at', 'date'),
      field('note', 'string'),
      field('ghost', 'string'),
    ]);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(m));
    const steps: string[] = [];
    const error = await deployConnector(dir, context, {
      environment: 'dev',
      env: process.env,
      workingDir: work,
      progress: (event) => steps.push(event.step),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactoryError);
    expect((error as FactoryError).code).toBe('invalid_input');
    const message = (error as FactoryError).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(`${table}.tags: the source column is text[] (array), the manifest declares string`);
    expect(message).toContain(
      `${table}.at: the source column is timestamp with time zone (datetime), the manifest declares date`,
    );
    expect(message).toContain(`${table}.ghost: the source has no such column`);
    // Widening is fine: int4 as number, a date as a datetime, text as string.
    expect(message).not.toMatch(/\.(total|placed|note|id):/);
    expect(steps).toEqual([]);
    const [record] = await factory.store.deployments.list({ connectorId: m.id });
    expect(record).toMatchObject({ status: 'failed' });
    expect(record!.lastError).toContain('.tags: the source column is text[] (array)');
  });

  it('passes the same table declared as the source types it', async () => {
    const m = manifest([
      field('id', 'number'),
      field('tags', 'json'),
      field('total', 'number'),
      field('placed', 'date'),
      field('at', 'datetime'),
      field('note', 'string'),
    ]);
    expect(await sourceTypeMismatches(m, process.env)).toEqual([]);
  });
});

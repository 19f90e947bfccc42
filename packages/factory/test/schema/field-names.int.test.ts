/**
 * The Schema agent carries every column name PostgreSQL allows (`__proto__`, quotes, backticks, comment
 * ends, newlines, reserved words) and says before anything is generated when a table has a column no lake
 * table can hold. PG_URL must be set (scripts/services.sh).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePgUrl, sql } from '../support/live-postgres.js';
import { extractSchema } from '../../src/agents/schema/index.js';
import { FactoryError } from '../../src/errors.js';

requirePgUrl();
const schema = `cf_names_${randomBytes(4).toString('hex')}`;
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const HOSTILE = ['__proto__', 'constructor', '"quoted"', '`bt`', '*/', 'new\nline', 'select', 'order'];
const source = { type: 'jdbc', provider: 'postgres', connectionString: '${PG_URL}' } as const;

beforeAll(async () => {
  await sql(`CREATE SCHEMA ${quote(schema)}`);
  await sql(
    `CREATE TABLE ${quote(schema)}.hostile (id int PRIMARY KEY, ${HOSTILE.map((n) => `${quote(n)} text`).join(', ')})`,
  );
  await sql(`CREATE TABLE ${quote(schema)}.twins (id int PRIMARY KEY, "Code" text, code text, _extracted_at text)`);
});
afterAll(async () => {
  await sql(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
});

describe('the Schema agent and column names', () => {
  it('carries every hostile name as it is', async () => {
    const definition = await extractSchema(source, { schema, entities: ['hostile'], sampleRows: 0 });
    expect(definition.entities[0]!.fields.map((f) => f.name)).toEqual(['id', ...HOSTILE]);
  });

  it('refuses a table with columns no lake table can hold, naming them, before anything is generated', async () => {
    const error = await extractSchema(source, { schema, entities: ['twins'], sampleRows: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactoryError);
    expect((error as FactoryError).code).toBe('invalid_input');
    const message = (error as FactoryError).message;
    expect(message).toContain('twins: "code" and "Code" differ only in case');
    expect(message).toContain('twins: "_extracted_at" is the name of a column the connector adds');
  });
});

/**
 * The Schema Agent against the real PostgreSQL and MariaDB of scripts/services.sh:
 *   bash scripts/services.sh start; set -a; source .services/env; set +a
 * Each run creates its own schema (PostgreSQL) / database (MariaDB) and drops it afterwards, since
 * other tests share the servers. PG_URL and MARIADB_URL must be set: without them these tests fail.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateManifest } from '@connector-factory/ir';
import { extractSchema, type SchemaDefinition } from '../../src/agents/schema/index.js';
import { FactoryError } from '../../src/errors.js';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: start the services (bash scripts/services.sh start) and run with ` +
        '`set -a; source .services/env; set +a`',
    );
  }
  return value;
}

const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;
const HOSTILE = 'Weird "Quote" `tick` ünï select';
const HOSTILE_CHILD = 'child; DROP TABLE x --';

// ---------------------------------------------------------------------------------------------
// Realistic fake people (deterministic)

const FIRST = ['Maria', 'John', 'Emily', 'David', 'Sarah', 'Michael', 'Anna', 'James', 'Laura', 'Robert'];
const LAST = ['Garcia', 'Smith', 'Chen', 'Okafor', 'Miller', 'Novak', 'Rossi', 'Brown', 'Kowalski', 'Tanaka'];
const STREETS = ['Main St', 'Oak Avenue', 'Maple Rd', 'Sunset Blvd', 'Elm Street', 'Cedar Ln'];

/** A Luhn-valid card number from a prefix: the check digit is computed here, independently of the agent. */
function cardNumber(prefix: string, length: number, seed: number): string {
  let body = prefix;
  for (let i = 0; body.length < length - 1; i++) body += String((seed * 7 + i * 3) % 10);
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let digit = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return body + String((10 - (sum % 10)) % 10);
}

interface Person {
  name: string;
  email: string;
  altContact: string;
  phone: string;
  address: string;
  ssn: string;
  card: string;
  ip: string;
  birth: string;
}

const PEOPLE: Person[] = Array.from({ length: 30 }, (_, i) => {
  const first = FIRST[i % FIRST.length]!;
  const last = LAST[(i * 3) % LAST.length]!;
  const card = cardNumber(i % 2 === 0 ? '4' : '51', 16, i);
  return {
    name: `${first} ${last}`,
    email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com`,
    altContact: `${last.toLowerCase()}${i}@mail.example.org`,
    phone: i % 3 === 0 ? `+1415555${String(1000 + i)}` : `(555) 010-${String(1000 + i)}`,
    address: `${120 + i * 7} ${STREETS[i % STREETS.length]!}`,
    ssn: `${String(101 + i)}-${String(10 + i).padStart(2, '0')}-${String(1000 + i * 37)}`,
    card: i % 4 === 0 ? card.replace(/(\d{4})(?=\d)/g, '$1 ') : card,
    ip: i % 5 === 0 ? `2001:db8::${(i + 1).toString(16)}` : `192.168.${i}.${10 + i}`,
    birth: `19${String(60 + i).slice(-2)}-0${(i % 9) + 1}-1${i % 10}`,
  };
});

const PRODUCTS = ['Blue Widget', 'Red Gadget', 'Steel Bolt', 'Oak Table', 'Desk Lamp', 'Paper Clip', 'Green Mug'];

// ---------------------------------------------------------------------------------------------
// What both databases must give

function entity(definition: SchemaDefinition, name: string) {
  const found = definition.entities.find((e) => e.name === name);
  if (!found) throw new Error(`no entity ${name} in ${definition.entities.map((e) => e.name).join(', ')}`);
  return found;
}

function field(definition: SchemaDefinition, entityName: string, fieldName: string) {
  const found = entity(definition, entityName).fields.find((f) => f.name === fieldName);
  if (!found) throw new Error(`no field ${entityName}.${fieldName}`);
  return found;
}

function piiReasons(definition: SchemaDefinition, entityName: string, fieldName: string): string[] | undefined {
  return definition.pii.find((p) => p.entity === entityName && p.field === fieldName)?.reasons;
}

function expectCommonShape(definition: SchemaDefinition, password: string): void {
  expect(JSON.stringify(definition)).not.toContain(password);
  const names = definition.entities.map((e) => e.name);
  for (const name of [
    'customers',
    'customer_profiles',
    'orders',
    'products',
    'tags',
    'product_tags',
    'order_items',
    'item_returns',
    HOSTILE,
    HOSTILE_CHILD,
  ]) {
    expect(names).toContain(name);
  }

  // Types, hints, nullability, primary keys.
  expect(entity(definition, 'customers').primaryKey).toEqual(['id']);
  expect(entity(definition, 'product_tags').primaryKey).toEqual(['product_id', 'tag_id']);
  expect(entity(definition, 'order_items').primaryKey).toEqual(['order_id', 'line_no']);
  expect(field(definition, 'customers', 'id')).toMatchObject({ type: 'number', nullable: false });
  expect(field(definition, 'customers', 'email')).toMatchObject({ type: 'string', nullable: false, pii: true });
  expect(field(definition, 'customers', 'phone')).toMatchObject({ type: 'string', nullable: true, pii: true });
  expect(field(definition, 'customers', 'balance')).toMatchObject({ type: 'number', nullable: false, pii: false });
  expect(field(definition, 'customers', 'score')).toMatchObject({ type: 'number', nullable: true });
  expect(field(definition, 'customers', 'is_vip')).toMatchObject({ type: 'boolean', nullable: false });
  expect(field(definition, 'customers', 'birth_date')).toMatchObject({ type: 'date', pii: true });
  expect(field(definition, 'customers', 'prefs')).toMatchObject({ type: 'json' });
  expect(field(definition, 'customers', 'created_at')).toMatchObject({ type: 'datetime', nullable: false });
  expect(field(definition, 'orders', 'placed_at')).toMatchObject({ type: 'datetime' });
  expect(definition.numberHints.customers).toMatchObject({ id: 'int64', balance: 'decimal(12,2)', score: 'float64' });
  expect(definition.numberHints.orders).toMatchObject({ id: 'int64', customer_id: 'int64', total: 'decimal(12,2)' });
  expect(definition.numberHints.products?.price).toBe('decimal(10,2)');

  // Relationships: from the referenced ("one") side to the side holding the foreign key.
  const relationships = definition.relationships;
  expect(relationships).toContainEqual({
    from: { entity: 'customers', field: 'id' },
    to: { entity: 'orders', field: 'customer_id' },
    type: 'one_to_many',
  });
  expect(relationships).toContainEqual({
    from: { entity: 'customers', field: 'id' },
    to: { entity: 'customer_profiles', field: 'customer_id' },
    type: 'one_to_one',
  });
  expect(relationships).toContainEqual({
    from: { entity: 'products', field: 'id' },
    to: { entity: 'tags', field: 'id' },
    type: 'many_to_many',
  });
  expect(relationships).toContainEqual({
    from: { entity: 'orders', field: 'id' },
    to: { entity: 'order_items', field: 'order_id' },
    type: 'one_to_many',
  });
  // order_items has two foreign keys, but its key is (order_id, line_no): no junction.
  expect(relationships.filter((r) => r.type === 'many_to_many')).toHaveLength(1);
  // Composite foreign key: one relationship per column pair.
  expect(relationships).toContainEqual({
    from: { entity: 'order_items', field: 'order_id' },
    to: { entity: 'item_returns', field: 'order_id' },
    type: 'one_to_many',
  });
  expect(relationships).toContainEqual({
    from: { entity: 'order_items', field: 'line_no' },
    to: { entity: 'item_returns', field: 'line_no' },
    type: 'one_to_many',
  });
  expect(relationships).toContainEqual({
    from: { entity: HOSTILE, field: 'select' },
    to: { entity: HOSTILE_CHILD, field: 'parent "ref"' },
    type: 'one_to_many',
  });
  expect(definition.notes.join('\n')).toContain('products ↔ tags many_to_many through junction table product_tags');

  // PII, with reasons from names and from sampled values.
  expect(piiReasons(definition, 'customers', 'email')).toEqual([
    'name matches email',
    '100% of 30 samples look like emails',
  ]);
  expect(piiReasons(definition, 'customers', 'alt_contact')).toEqual(['100% of 30 samples look like emails']);
  expect(piiReasons(definition, 'customers', 'phone')).toEqual([
    'name matches phone',
    '100% of 30 samples look like phone numbers',
  ]);
  expect(piiReasons(definition, 'customers', 'ssn')).toEqual([
    'name matches national id',
    '100% of 30 samples look like US social security numbers',
  ]);
  expect(piiReasons(definition, 'customers', 'card_number')).toEqual([
    'name matches card number',
    '100% of 30 samples look like card numbers (Luhn-valid)',
  ]);
  expect(piiReasons(definition, 'customers', 'name')).toEqual([
    'name "name" in person-like table "customers"',
    '100% of 30 samples look like person names',
  ]);
  expect(piiReasons(definition, 'customers', 'address')).toEqual([
    'name matches address',
    '100% of 30 samples look like street addresses',
  ]);
  expect(piiReasons(definition, 'customers', 'signup_ip')).toEqual([
    'name matches ip address',
    '100% of 30 samples look like IP addresses',
  ]);
  expect(piiReasons(definition, 'customers', 'birth_date')).toEqual(['name matches birth date']);
  expect(piiReasons(definition, 'products', 'name')).toBeUndefined();
  expect(field(definition, 'products', 'name').pii).toBe(false);
  expect(piiReasons(definition, 'orders', 'status')).toBeUndefined();
  expect(piiReasons(definition, HOSTILE, 'e-Mail Address')).toEqual([
    'name matches email',
    '100% of 6 samples look like emails',
  ]);

  // Hostile names: quotes, backticks, spaces, unicode, reserved words.
  expect(entity(definition, HOSTILE).primaryKey).toEqual(['select']);
  expect(entity(definition, HOSTILE).fields.map((f) => f.name)).toEqual([
    'select',
    'e-Mail Address',
    'Straße',
    'a"b`c',
    'order',
    'Updated At',
  ]);

  // Per-entity strategies.
  const own = (name: string) => definition.strategies.find((s) => s.entity === name);
  expect(own('orders')).toMatchObject({
    updateStrategy: 'incremental',
    incrementalKey: 'updated_at',
    mergeKeys: ['id'],
  });
  expect(own('tags')).toMatchObject({ updateStrategy: 'full_refresh', mergeKeys: ['id'] });
  expect(own(HOSTILE)).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'Updated At' });
  // Together they share no cursor: full_refresh, explained.
  expect(definition.updateStrategy).toBe('full_refresh');
  expect(definition.notes.join('\n')).toContain('share no cursor');
}

/** The schema section of `definition` in a whole manifest validates against the IR. */
function expectValidManifest(definition: SchemaDefinition, provider: string): void {
  const manifest = {
    id: `connector_${provider}_orders_v1`,
    name: 'schema agent test',
    version: '1.0.0',
    source: { type: 'jdbc', provider, connectionString: '${PG_URL}', auth: { method: 'basic', config: {} } },
    schema: {
      entities: definition.entities,
      relationships: definition.relationships,
      updateStrategy: definition.updateStrategy,
      ...(definition.incrementalKey !== undefined ? { incrementalKey: definition.incrementalKey } : {}),
      ...(definition.cdcConfig !== undefined ? { cdcConfig: definition.cdcConfig } : {}),
    },
    destination: {
      lakePath: 's3://lake/landing/test/',
      format: 'delta',
      partitionBy: [],
      // Without common merge keys (entities keyed differently) a single connector overwrites.
      ...(definition.mergeKeys !== undefined
        ? { writeMode: 'merge', mergeKeys: definition.mergeKeys }
        : { writeMode: 'overwrite' }),
    },
    schedule: { type: 'continuous' },
    governance: {
      owner: 'team',
      classification: 'internal',
      retentionDays: 30,
      piiHandling: 'mask',
      contract: { version: '1.0.0', slo: { freshnessMinutes: 5, availabilityPercent: 99, errorRatePercent: 1 } },
    },
  };
  const result = validateManifest(manifest);
  expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
}

/** Runs `fn`, expecting a FactoryError; returns it. */
async function failure(fn: () => Promise<unknown>): Promise<FactoryError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(FactoryError);
    return error as FactoryError;
  }
  throw new Error('expected a FactoryError');
}

const errorText = (error: FactoryError) =>
  JSON.stringify({ message: error.message, details: error.details, stack: error.stack });

// ---------------------------------------------------------------------------------------------

describe('Schema Agent on PostgreSQL', () => {
  const schema = `cf_schema_${suffix}`;
  const role = `cf_schema_role_${suffix}`;
  const rolePassword = `Pw_${randomBytes(12).toString('hex')}`;
  let url: string;
  let password: string;
  let admin: pg.Client;
  const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

  beforeAll(async () => {
    url = requireEnv('PG_URL');
    password = decodeURIComponent(new URL(url).password);
    expect(password).not.toBe('');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const s = q(schema);
    await admin.query(`CREATE SCHEMA ${s}`);
    await admin.query(`SET search_path TO ${s}`);
    await admin.query(`
      CREATE DOMAIN ${s}.email_address AS text NOT NULL CHECK (VALUE LIKE '%@%');
      CREATE TABLE customers (
        id bigserial PRIMARY KEY,
        email email_address UNIQUE,
        alt_contact text,
        phone varchar(32),
        name text NOT NULL,
        address text,
        ssn char(11),
        card_number varchar(19),
        signup_ip inet,
        birth_date date,
        balance numeric(12,2) NOT NULL DEFAULT 0,
        score double precision,
        is_vip boolean NOT NULL DEFAULT false,
        labels text[],
        prefs jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE customer_profiles (
        id serial PRIMARY KEY,
        customer_id bigint NOT NULL UNIQUE REFERENCES customers (id),
        bio text,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES customers (id),
        status text NOT NULL,
        total numeric(12,2) NOT NULL,
        placed_at timestamp NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE products (
        id serial PRIMARY KEY,
        name text NOT NULL,
        sku varchar(32) UNIQUE,
        price numeric(10,2),
        updated_at timestamptz
      );
      CREATE TABLE tags (id serial PRIMARY KEY, label text NOT NULL UNIQUE);
      CREATE TABLE product_tags (
        product_id int NOT NULL REFERENCES products (id),
        tag_id int NOT NULL REFERENCES tags (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (product_id, tag_id)
      );
      CREATE TABLE order_items (
        order_id bigint NOT NULL REFERENCES orders (id),
        line_no int NOT NULL,
        product_id int NOT NULL REFERENCES products (id),
        quantity int NOT NULL,
        unit_price numeric(10,2) NOT NULL,
        PRIMARY KEY (order_id, line_no)
      );
      CREATE TABLE item_returns (
        id serial PRIMARY KEY,
        order_id bigint NOT NULL,
        line_no int NOT NULL,
        reason text,
        FOREIGN KEY (order_id, line_no) REFERENCES order_items (order_id, line_no)
      );
      CREATE TABLE ${q(HOSTILE)} (
        "select" int PRIMARY KEY,
        "e-Mail Address" text,
        "Straße" text,
        ${q('a"b`c')} text,
        "order" int,
        "Updated At" timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE ${q(HOSTILE_CHILD)} (
        id int PRIMARY KEY,
        ${q('parent "ref"')} int REFERENCES ${q(HOSTILE)} ("select")
      );
      CREATE VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY customer_id;
    `);
    for (const [i, p] of PEOPLE.entries()) {
      await admin.query(
        `INSERT INTO customers (email, alt_contact, phone, name, address, ssn, card_number, signup_ip, birth_date,
                                balance, score, prefs)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [p.email, p.altContact, p.phone, p.name, p.address, p.ssn, p.card, p.ip, p.birth, i * 10.5, i / 3, { i }],
      );
    }
    await admin.query(`INSERT INTO customer_profiles (customer_id, bio) SELECT id, 'likes tea' FROM customers`);
    await admin.query(
      `INSERT INTO orders (customer_id, status, total, placed_at) SELECT id, 'paid', 12.5, now() FROM customers`,
    );
    for (const [i, name] of PRODUCTS.entries()) {
      await admin.query(`INSERT INTO products (name, sku, price) VALUES ($1, $2, $3)`, [name, `SKU-${i}`, 9.99]);
    }
    await admin.query(`INSERT INTO tags (label) VALUES ('new'), ('sale'), ('eco')`);
    await admin.query(`INSERT INTO product_tags (product_id, tag_id) SELECT p.id, t.id FROM products p, tags t`);
    await admin.query(
      `INSERT INTO ${q(HOSTILE)} ("select", "e-Mail Address", "Straße", ${q('a"b`c')}, "order")
       SELECT g, 'p' || g || '@example.net', 'Hauptstraße ' || g, 'x', g FROM generate_series(1, 6) g`,
    );
    // A role that may read but not replicate: capabilities must say why cdc is out.
    await admin.query(`CREATE ROLE ${q(role)} LOGIN PASSWORD '${rolePassword}' NOSUPERUSER NOREPLICATION`);
    await admin.query(`GRANT USAGE ON SCHEMA ${s} TO ${q(role)}`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${s} TO ${q(role)}`);
  });

  afterAll(async () => {
    if (admin === undefined) return;
    await admin.query(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${q(role)}`).catch(() => undefined);
    await admin.end();
  });

  const source = { type: 'jdbc', provider: 'postgres', connectionString: '${PG_URL}' } as const;

  it('extracts every table: types, hints, nullability, keys, relationships, PII and strategies', async () => {
    const definition = await extractSchema(source, { schema });
    expectCommonShape(definition, password);
    expect(definition.entities.map((e) => e.name)).toContain('order_totals'); // views are entities too
    expect(entity(definition, 'order_totals').primaryKey).toBeUndefined();
    expect(field(definition, 'customers', 'labels')).toMatchObject({ type: 'json' }); // arrays
    expect(field(definition, 'customers', 'signup_ip')).toMatchObject({ type: 'string' });
    expect(definition.numberHints.customers?.score).toBe('float64');
    expect(definition.numberHints.customer_profiles?.id).toBe('int64');
    // A NOT NULL domain makes the column non-nullable.
    expect(field(definition, 'customers', 'email').nullable).toBe(false);
    expectValidManifest(definition, 'postgres');
  });

  it('incremental on updated_at for one table, with the primary key as merge keys', async () => {
    const definition = await extractSchema(source, { schema, entities: ['orders'] });
    expect(definition).toMatchObject({
      updateStrategy: 'incremental',
      incrementalKey: 'updated_at',
      mergeKeys: ['id'],
    });
    expect(definition.cdcConfig).toBeUndefined();
    // customers is not extracted: the foreign key is left out, with a note.
    expect(definition.relationships).toEqual([]);
    expect(definition.notes.join('\n')).toContain('which is not extracted');
    expect(definition.notes.join('\n')).toMatch(/orders: incremental on updated_at/);
  });

  it('full_refresh for a table without a cursor', async () => {
    const definition = await extractSchema(source, { schema, entities: ['tags'] });
    expect(definition.updateStrategy).toBe('full_refresh');
    expect(definition.incrementalKey).toBeUndefined();
    expect(definition.mergeKeys).toEqual(['id']);
    expect(definition.strategies[0]?.why).toContain('no column records the last change');
  });

  it('cdc when asked for and logical replication is available', async () => {
    const definition = await extractSchema(source, { schema, entities: ['orders', 'customers'], wantCdc: true });
    expect(definition.entities.map((e) => e.name)).toEqual(['orders', 'customers']);
    expect(definition).toMatchObject({
      updateStrategy: 'cdc',
      cdcConfig: { cursorField: 'lsn', cursorType: 'log_position' },
      mergeKeys: ['id'],
    });
    expect(definition.incrementalKey).toBeUndefined();
    expect(definition.notes.join('\n')).toContain('cdc available: wal_level is logical');
    expect(definition.relationships).toEqual([
      {
        from: { entity: 'customers', field: 'id' },
        to: { entity: 'orders', field: 'customer_id' },
        type: 'one_to_many',
      },
    ]);
    expectValidManifest(definition, 'postgres');
  });

  it('cdc asked for without the REPLICATION attribute: says why and falls back to incremental', async () => {
    const roleUrl = new URL(url);
    roleUrl.username = role;
    roleUrl.password = rolePassword;
    const env = { ...process.env, ROLE_URL: roleUrl.toString() };
    const definition = await extractSchema(
      { type: 'jdbc', provider: 'postgres', connectionString: '${ROLE_URL}' },
      { schema, entities: ['orders'], wantCdc: true, env },
    );
    expect(definition).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'updated_at' });
    const notes = definition.notes.join('\n');
    expect(notes).toContain('cdc not available');
    expect(notes).toContain(`user "${role}" may not create replication slots`);
    expect(notes).not.toContain('wal_level is'); // wal_level is fine: only the failed condition is named
    expect(definition.strategies[0]?.why).toMatch(
      /cdc was asked for but is not available .*falling back to incremental/,
    );
    expect(JSON.stringify(definition)).not.toContain(rolePassword);
  });

  it('samples a bounded number of rows', async () => {
    const definition = await extractSchema(source, { schema, entities: ['customers'], sampleRows: 10 });
    expect(piiReasons(definition, 'customers', 'alt_contact')).toEqual(['100% of 10 samples look like emails']);
    const none = await extractSchema(source, { schema, entities: ['customers'], sampleRows: 0 });
    expect(piiReasons(none, 'customers', 'alt_contact')).toBeUndefined();
    expect(piiReasons(none, 'customers', 'email')).toEqual(['name matches email']);
  });

  it('never shows the password: literal passwords, bad passwords, unknown tables, unreachable servers', async () => {
    const literal = await failure(() => extractSchema({ ...source, connectionString: url }, { schema }));
    expect(literal.code).toBe('invalid_input');
    expect(literal.message).toContain('literal');

    const wrong = new URL(url);
    wrong.password = 'Wr0ng_Secret_Value';
    const env = { ...process.env, WRONG_URL: wrong.toString(), DOWN_URL: url.replace(/:\d+\//, ':1/') };
    const badPassword = await failure(() =>
      extractSchema({ ...source, connectionString: '${WRONG_URL}' }, { schema, env }),
    );
    expect(badPassword.code).toBe('source_auth');
    expect(badPassword.sqlstate).toBe('28P01');
    expect(badPassword.message).toMatch(/password authentication failed/);
    expect(badPassword.message).toContain(':***@');

    const unknown = await failure(() => extractSchema(source, { schema, entities: ['orders', 'nope'] }));
    expect(unknown.code).toBe('not_found');
    expect(unknown.message).toContain('"nope"');

    const down = await failure(() => extractSchema({ ...source, connectionString: '${DOWN_URL}' }, { schema, env }));
    expect(down.code).toBe('source_unavailable');
    expect(down.retryable).toBe(true);

    const missing = await failure(() => extractSchema({ ...source, connectionString: '${NO_SUCH_VAR_X}' }, { schema }));
    expect(missing.message).toContain('NO_SUCH_VAR_X is not set');

    const noSchema = await failure(() => extractSchema(source, { schema: `${schema}_missing` }));
    expect(noSchema.code).toBe('not_found');

    for (const error of [literal, badPassword, unknown, down, missing, noSchema]) {
      expect(errorText(error)).not.toContain(password);
      expect(errorText(error)).not.toContain('Wr0ng_Secret_Value');
    }
  });
});

describe('Schema Agent on MariaDB', () => {
  const database = `cf_schema_${suffix}`;
  let url: string;
  let password: string;
  let admin: mysql.Connection;
  const q = (name: string) => `\`${name.replace(/`/g, '``')}\``;

  beforeAll(async () => {
    const base = requireEnv('MARIADB_URL');
    password = decodeURIComponent(new URL(base).password);
    expect(password).not.toBe('');
    const withDatabase = new URL(base);
    withDatabase.pathname = `/${database}`;
    url = withDatabase.toString();
    admin = await mysql.createConnection({ uri: base, multipleStatements: true, charset: 'utf8mb4' });
    await admin.query(`CREATE DATABASE ${q(database)} CHARACTER SET utf8mb4`);
    await admin.query(`USE ${q(database)}`);
    await admin.query(`
      CREATE TABLE customers (
        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email varchar(255) NOT NULL UNIQUE,
        alt_contact varchar(255),
        phone varchar(32),
        name varchar(200) NOT NULL,
        address varchar(200),
        ssn char(11),
        card_number varchar(19),
        signup_ip varchar(45),
        birth_date date,
        balance decimal(12,2) NOT NULL DEFAULT 0,
        score double,
        is_vip tinyint(1) NOT NULL DEFAULT 0,
        visits bigint unsigned,
        prefs json,
        created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        updated_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
      );
      CREATE TABLE customer_profiles (
        id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
        customer_id bigint NOT NULL UNIQUE,
        bio text,
        updated_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
        FOREIGN KEY (customer_id) REFERENCES customers (id)
      );
      CREATE TABLE orders (
        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
        customer_id bigint NOT NULL,
        status enum('new', 'paid', 'shipped') NOT NULL,
        total decimal(12,2) NOT NULL,
        placed_at datetime NOT NULL,
        updated_at datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        FOREIGN KEY (customer_id) REFERENCES customers (id)
      );
      CREATE TABLE products (
        id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name varchar(200) NOT NULL,
        sku varchar(32) UNIQUE,
        price decimal(10,2),
        updated_at datetime NULL
      );
      CREATE TABLE tags (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, label varchar(50) NOT NULL UNIQUE);
      CREATE TABLE product_tags (
        product_id int NOT NULL,
        tag_id int NOT NULL,
        created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
        PRIMARY KEY (product_id, tag_id),
        FOREIGN KEY (product_id) REFERENCES products (id),
        FOREIGN KEY (tag_id) REFERENCES tags (id)
      );
      CREATE TABLE order_items (
        order_id bigint NOT NULL,
        line_no int NOT NULL,
        product_id int NOT NULL,
        quantity int NOT NULL,
        unit_price decimal(10,2) NOT NULL,
        PRIMARY KEY (order_id, line_no),
        FOREIGN KEY (order_id) REFERENCES orders (id),
        FOREIGN KEY (product_id) REFERENCES products (id)
      );
      CREATE TABLE item_returns (
        id int NOT NULL AUTO_INCREMENT PRIMARY KEY,
        order_id bigint NOT NULL,
        line_no int NOT NULL,
        reason text,
        FOREIGN KEY (order_id, line_no) REFERENCES order_items (order_id, line_no)
      );
      CREATE TABLE ${q(HOSTILE)} (
        \`select\` int NOT NULL PRIMARY KEY,
        \`e-Mail Address\` varchar(200),
        \`Straße\` varchar(200),
        ${q('a"b`c')} text,
        \`order\` int,
        \`Updated At\` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP
      );
      CREATE TABLE ${q(HOSTILE_CHILD)} (
        id int NOT NULL PRIMARY KEY,
        ${q('parent "ref"')} int,
        FOREIGN KEY (${q('parent "ref"')}) REFERENCES ${q(HOSTILE)} (\`select\`)
      );
    `);
    for (const [i, p] of PEOPLE.entries()) {
      await admin.execute(
        `INSERT INTO customers (email, alt_contact, phone, name, address, ssn, card_number, signup_ip, birth_date,
                                balance, score, prefs)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          p.email,
          p.altContact,
          p.phone,
          p.name,
          p.address,
          p.ssn,
          p.card,
          p.ip,
          p.birth,
          i * 10.5,
          i / 3,
          JSON.stringify({ i }),
        ],
      );
    }
    await admin.query(`INSERT INTO customer_profiles (customer_id, bio) SELECT id, 'likes tea' FROM customers`);
    await admin.query(
      `INSERT INTO orders (customer_id, status, total, placed_at) SELECT id, 'paid', 12.5, NOW() FROM customers`,
    );
    for (const [i, name] of PRODUCTS.entries()) {
      await admin.execute(`INSERT INTO products (name, sku, price) VALUES (?, ?, ?)`, [name, `SKU-${i}`, 9.99]);
    }
    await admin.query(`INSERT INTO tags (label) VALUES ('new'), ('sale'), ('eco')`);
    await admin.query(`INSERT INTO product_tags (product_id, tag_id) SELECT p.id, t.id FROM products p, tags t`);
    for (let g = 1; g <= 6; g++) {
      await admin.execute(
        `INSERT INTO ${q(HOSTILE)} (\`select\`, \`e-Mail Address\`, \`Straße\`, ${q('a"b`c')}, \`order\`) VALUES (?, ?, ?, 'x', ?)`,
        [g, `p${g}@example.net`, `Hauptstraße ${g}`, g],
      );
    }
  });

  afterAll(async () => {
    if (admin === undefined) return;
    await admin.query(`DROP DATABASE IF EXISTS ${q(database)}`).catch(() => undefined);
    await admin.end();
  });

  const source = { type: 'jdbc', provider: 'mysql', connectionString: '${SCHEMA_TEST_MYSQL_URL}' } as const;
  const env = () => ({ ...process.env, SCHEMA_TEST_MYSQL_URL: url });

  it('extracts every table: types, hints, nullability, keys, relationships, PII and strategies', async () => {
    const definition = await extractSchema(source, { env: env() });
    expectCommonShape(definition, password);
    expect(field(definition, 'customers', 'prefs')).toMatchObject({ type: 'json' }); // MariaDB: LONGTEXT + json_valid
    expect(definition.numberHints.customers?.visits).toBe('decimal(20,0)'); // BIGINT UNSIGNED
    expect(field(definition, 'orders', 'status')).toMatchObject({ type: 'string', nullable: false });
    expectValidManifest(definition, 'mysql');
  });

  it('incremental on updated_at; full_refresh without a cursor', async () => {
    const orders = await extractSchema(source, { env: env(), entities: ['orders'] });
    expect(orders).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'updated_at', mergeKeys: ['id'] });
    const tags = await extractSchema(source, { env: env(), entities: ['tags'] });
    expect(tags).toMatchObject({ updateStrategy: 'full_refresh', mergeKeys: ['id'] });
  });

  it('cdc asked for: not supported by the runtime yet, says so and falls back', async () => {
    const definition = await extractSchema(source, { env: env(), entities: ['orders', 'customers'], wantCdc: true });
    expect(definition).toMatchObject({
      updateStrategy: 'incremental',
      incrementalKey: 'updated_at',
      mergeKeys: ['id'],
    });
    expect(definition.cdcConfig).toBeUndefined();
    expect(definition.notes.join('\n')).toContain(
      'cdc not available: CDC from the MySQL/MariaDB binlog is not supported by the runtime yet',
    );
  });

  it('a mariadb:// URL works too', async () => {
    const mariadbUrl = url.replace(/^mysql:/, 'mariadb:');
    const definition = await extractSchema(source, {
      env: { ...process.env, SCHEMA_TEST_MYSQL_URL: mariadbUrl },
      entities: ['tags'],
    });
    expect(definition.entities[0]?.name).toBe('tags');
  });

  it('never shows the password', async () => {
    const wrong = new URL(url);
    wrong.password = 'Wr0ng_Secret_Value';
    const badPassword = await failure(() =>
      extractSchema(source, { env: { ...process.env, SCHEMA_TEST_MYSQL_URL: wrong.toString() } }),
    );
    expect(badPassword.code).toBe('source_auth');
    expect(badPassword.sqlstate).toBe('28000');
    expect(badPassword.message).toContain('Access denied');
    const literal = await failure(() => extractSchema({ ...source, connectionString: url }));
    const unknown = await failure(() => extractSchema(source, { env: env(), entities: ['nope'] }));
    expect(unknown.code).toBe('not_found');
    for (const error of [badPassword, literal, unknown]) {
      expect(errorText(error)).not.toContain(password);
      expect(errorText(error)).not.toContain('Wr0ng_Secret_Value');
    }
  });
});

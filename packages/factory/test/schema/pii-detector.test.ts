import { describe, expect, it } from 'vitest';
import {
  bestCursor,
  detectPii,
  inferEntityStrategy,
  inferRelationships,
  inferUpdateStrategy,
  isPersonTable,
  looksLikeCardNumber,
  looksLikeEmail,
  looksLikeIban,
  looksLikeIpAddress,
  looksLikePersonName,
  looksLikePhone,
  looksLikeSsn,
  looksLikeStreetAddress,
  luhnValid,
  nameWords,
  piiByName,
  piiByValues,
  type EntityDescription,
  type IntrospectedField,
} from '../../src/agents/schema/index.js';
import {
  assertNoLiteralPassword,
  expandEnvReference,
  providerFromUrl,
  redactConnectionUrl,
  resolveConnection,
  scrubSecrets,
} from '../../src/agents/schema/connection.js';
import { mapPgType } from '../../src/agents/schema/postgres/postgres-introspector.js';
import { jsonValidColumn, mapMysqlType } from '../../src/agents/schema/mysql/mysql-introspector.js';
import { FactoryError } from '../../src/errors.js';

describe('Luhn', () => {
  it('accepts valid card numbers and rejects one changed digit', () => {
    for (const number of [
      '4111111111111111',
      '5555555555554444',
      '378282246310005',
      '6011111111111117',
      '79927398713',
    ]) {
      expect(luhnValid(number), number).toBe(true);
    }
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398710')).toBe(false);
    expect(luhnValid('4111-1111')).toBe(false);
    expect(luhnValid('')).toBe(false);
  });

  it('card numbers: 13–19 digits, grouped or not, Luhn-valid, not one repeated digit', () => {
    expect(looksLikeCardNumber('4111 1111 1111 1111')).toBe(true);
    expect(looksLikeCardNumber('4111-1111-1111-1111')).toBe(true);
    expect(looksLikeCardNumber('3782 822463 10005')).toBe(true);
    expect(looksLikeCardNumber('4111111111111112')).toBe(false); // Luhn fails
    expect(looksLikeCardNumber('0000000000000000')).toBe(false); // passes Luhn, but no card
    expect(looksLikeCardNumber('79927398713')).toBe(false); // 11 digits
    expect(looksLikeCardNumber('41111111111111111111')).toBe(false); // 20 digits
    expect(looksLikeCardNumber('4111  1111 1111 1111')).toBe(false);
    expect(looksLikeCardNumber('card 4111111111111111')).toBe(false);
  });
});

describe('value patterns', () => {
  it('emails', () => {
    expect(looksLikeEmail('ana.garcia+shop@example.com')).toBe(true);
    expect(looksLikeEmail('jürgen@beispiel.de')).toBe(true);
    expect(looksLikeEmail('not an email')).toBe(false);
    expect(looksLikeEmail('a@b')).toBe(false);
    expect(looksLikeEmail('a..b@example.com')).toBe(false);
  });

  it('phones: E.164 and grouped national numbers, not ids, dates or SSNs', () => {
    for (const phone of [
      '+14155550123',
      '+49 30 1234567',
      '(555) 010-0199',
      '555-010-0199',
      '555.010.0199',
      '555-0199',
      '+1 (415) 555-0123 ext. 12',
    ]) {
      expect(looksLikePhone(phone), phone).toBe(true);
    }
    for (const other of [
      '5550100199',
      '2024-01-15',
      '123-45-6789',
      '12345',
      '+0123456789',
      '1.2.3',
      '4111 1111 1111 1111',
    ]) {
      expect(looksLikePhone(other), other).toBe(false);
    }
  });

  it('US SSNs without the never-issued numbers', () => {
    expect(looksLikeSsn('123-45-6789')).toBe(true);
    expect(looksLikeSsn('000-45-6789')).toBe(false);
    expect(looksLikeSsn('666-45-6789')).toBe(false);
    expect(looksLikeSsn('912-45-6789')).toBe(false);
    expect(looksLikeSsn('123-00-6789')).toBe(false);
    expect(looksLikeSsn('123456789')).toBe(false);
  });

  it('IP addresses, v4 and v6, with a prefix', () => {
    expect(looksLikeIpAddress('192.168.1.20')).toBe(true);
    expect(looksLikeIpAddress('10.0.0.0/8')).toBe(true);
    expect(looksLikeIpAddress('2001:db8::1')).toBe(true);
    expect(looksLikeIpAddress('fe80::1%eth0')).toBe(true);
    expect(looksLikeIpAddress('256.1.1.1')).toBe(false);
    expect(looksLikeIpAddress('1.2.3')).toBe(false);
  });

  it('IBANs with the mod-97 check', () => {
    expect(looksLikeIban('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(looksLikeIban('GB82WEST12345698765432')).toBe(true);
    expect(looksLikeIban('GB82WEST12345698765433')).toBe(false);
  });

  it('street addresses', () => {
    for (const address of [
      '123 Main St',
      '4500 North Oak Avenue, Apt 5',
      '12 rue de la Paix',
      'Hauptstraße 5',
      'PO Box 12',
      '77 Sunset Blvd.',
    ]) {
      expect(looksLikeStreetAddress(address), address).toBe(true);
    }
    for (const other of ['Main Street', 'Blue Widget', '12 items', 'via email']) {
      expect(looksLikeStreetAddress(other), other).toBe(false);
    }
  });

  it('person names: capitalised words starting with a common given name', () => {
    expect(looksLikePersonName('Maria Garcia')).toBe(true);
    expect(looksLikePersonName("John O'Neil")).toBe(true);
    expect(looksLikePersonName('Garcia, Maria')).toBe(true);
    expect(looksLikePersonName('Blue Widget')).toBe(false);
    expect(looksLikePersonName('Acme Corp')).toBe(false);
    expect(looksLikePersonName('maria garcia')).toBe(false);
    expect(looksLikePersonName('Maria')).toBe(false);
  });
});

describe('PII by column name', () => {
  const kinds = (field: string, type: IntrospectedField['type'] = 'string', entity = 'things') =>
    piiByName({ entity, field, type }).map((match) => match.kind);

  it('splits names into words', () => {
    expect(nameWords('customerEmail')).toEqual(['customer', 'email']);
    expect(nameWords('IPAddress')).toEqual(['ip', 'address']);
    expect(nameWords('E-Mail')).toEqual(['e', 'mail']);
    expect(nameWords('postal_code')).toEqual(['postal', 'code']);
  });

  it('knows the usual names', () => {
    expect(kinds('email')).toEqual(['email']);
    expect(kinds('e_mail')).toEqual(['email']);
    expect(kinds('contactEmail')).toEqual(['email']);
    expect(kinds('phone')).toEqual(['phone']);
    expect(kinds('mobile')).toEqual(['phone']);
    expect(kinds('ssn')).toEqual(['national_id']);
    expect(kinds('national_id')).toEqual(['national_id']);
    expect(kinds('passport')).toEqual(['national_id']);
    expect(kinds('card_number')).toEqual(['card_number']);
    expect(kinds('cc_number')).toEqual(['card_number']);
    expect(kinds('pan')).toEqual(['card_number']);
    expect(kinds('iban')).toEqual(['bank_account']);
    expect(kinds('ip')).toEqual(['ip_address']);
    expect(kinds('ip_address')).toEqual(['ip_address']);
    expect(kinds('first_name')).toEqual(['person_name']);
    expect(kinds('last_name')).toEqual(['person_name']);
    expect(kinds('full_name')).toEqual(['person_name']);
    expect(kinds('address')).toEqual(['address']);
    expect(kinds('street')).toEqual(['address']);
    expect(kinds('city')).toEqual(['address']);
    expect(kinds('zip')).toEqual(['address']);
    expect(kinds('postal_code')).toEqual(['address']);
    expect(kinds('dob', 'date')).toEqual(['birth_date']);
    expect(kinds('birth_date', 'date')).toEqual(['birth_date']);
    expect(kinds('card_number', 'number')).toEqual(['card_number']);
  });

  it('reasons say which name matched', () => {
    expect(piiByName({ entity: 't', field: 'email', type: 'string' })[0]?.reason).toBe('name matches email');
  });

  it('ignores flags, counts, ids and types that cannot hold the value', () => {
    expect(kinds('has_phone', 'boolean')).toEqual([]);
    expect(kinds('email_verified', 'boolean')).toEqual([]);
    expect(kinds('email_verified_at', 'datetime')).toEqual([]);
    expect(kinds('email_count', 'number')).toEqual([]);
    expect(kinds('address_id', 'number')).toEqual([]);
    expect(kinds('phone_type')).toEqual([]);
    expect(kinds('dob', 'boolean')).toEqual([]);
    expect(kinds('product_name')).toEqual([]);
    expect(kinds('file_name')).toEqual([]);
    expect(kinds('zipper_color')).toEqual([]);
  });

  it('"name" is PII in person-like tables only', () => {
    expect(isPersonTable('customers')).toBe(true);
    expect(isPersonTable('CustomerProfiles')).toBe(true);
    expect(isPersonTable('people')).toBe(true);
    expect(isPersonTable('products')).toBe(false);
    expect(kinds('name', 'string', 'customers')).toEqual(['person_name']);
    expect(kinds('name', 'string', 'products')).toEqual([]);
    expect(piiByName({ entity: 'users', field: 'name', type: 'string' })[0]?.reason).toBe(
      'name "name" in person-like table "users"',
    );
  });

  it('an ip_address or email_address is not a postal address', () => {
    expect(kinds('ip_address')).toEqual(['ip_address']);
    expect(kinds('email_address')).toEqual(['email']);
    expect(kinds('mac_address')).toEqual([]);
    expect(kinds('billing_address')).toEqual(['address']);
  });
});

describe('PII by sampled values', () => {
  const emails = (n: number) => Array.from({ length: n }, (_, i) => `user${i}@example.com`);

  it('flags a column when at least 60% of the non-empty samples match, with the share in the reason', () => {
    const values = [...emails(87), ...Array.from({ length: 13 }, (_, i) => `n/a ${i}`), null, '', undefined];
    expect(piiByValues(values)).toEqual([{ kind: 'email', reason: '87% of 100 samples look like emails' }]);
  });

  it('does not flag below the threshold, or with too few samples', () => {
    const values = [...emails(59), ...Array.from({ length: 41 }, (_, i) => `x${i}`)];
    expect(piiByValues(values)).toEqual([]);
    expect(piiByValues(values, { threshold: 0.5 })).toHaveLength(1);
    expect(piiByValues(emails(4))).toEqual([]);
    expect(piiByValues(emails(4), { minSamples: 3 })).toHaveLength(1);
    expect(piiByValues([])).toEqual([]);
  });

  it('threshold boundary: exactly 60% is enough', () => {
    const values = [...emails(6), 'a', 'b', 'c', 'd'];
    expect(piiByValues(values)).toEqual([{ kind: 'email', reason: '60% of 10 samples look like emails' }]);
  });

  it('card numbers need the Luhn check; random 16-digit ids do not pass', () => {
    const valid = ['4111111111111111', '5555555555554444', '4012888888881881', '5105105105105100', '4242424242424242'];
    expect(piiByValues(valid).map((m) => m.kind)).toEqual(['card_number']);
    const ids = ['4111111111111112', '5555555555554445', '4012888888881882', '5105105105105101', '4242424242424243'];
    expect(piiByValues(ids)).toEqual([]);
  });

  it('numbers from integer columns count as samples', () => {
    expect(
      piiByValues([4111111111111111n, '5555555555554444', '4012888888881881', '4242424242424242', '5105105105105100']),
    ).toHaveLength(1);
    expect(piiByValues([1, 2, 3, 4, 5, 6])).toEqual([]);
  });

  it('product names are not person names; person names are', () => {
    expect(piiByValues(['Blue Widget', 'Red Gadget', 'Steel Bolt', 'Oak Table', 'Desk Lamp'])).toEqual([]);
    const people = ['Maria Garcia', 'John Smith', 'Emily Chen', 'David Okafor', 'Sarah Miller'];
    expect(piiByValues(people).map((m) => m.kind)).toEqual(['person_name']);
  });

  it('detectPii joins name and value evidence; a column without a telling name can be PII', () => {
    const verdict = detectPii({ entity: 'orders', field: 'contact', type: 'string', values: emails(20) });
    expect(verdict).toEqual({ pii: true, kinds: ['email'], reasons: ['100% of 20 samples look like emails'] });
    const both = detectPii({ entity: 'customers', field: 'email', type: 'string', values: emails(10) });
    expect(both.reasons).toEqual(['name matches email', '100% of 10 samples look like emails']);
    expect(detectPii({ entity: 'products', field: 'name', type: 'string', values: ['Blue Widget'] }).pii).toBe(false);
    expect(detectPii({ entity: 'orders', field: 'payload', type: 'json', values: emails(10) }).pii).toBe(false);
  });
});

describe('update strategy', () => {
  const field = (name: string, type: IntrospectedField['type'], nullable = false): IntrospectedField => ({
    name,
    type,
    nullable,
    sourceType: type,
  });
  const orders = {
    name: 'orders',
    primaryKey: ['id'],
    fields: [field('id', 'number'), field('created_at', 'datetime'), field('updated_at', 'datetime')],
  };
  const tags = { name: 'tags', primaryKey: ['id'], fields: [field('id', 'number'), field('label', 'string')] };

  it('picks the best cursor: a NOT NULL last-change datetime first', () => {
    expect(bestCursor(orders.fields)?.name).toBe('updated_at');
    expect(bestCursor([field('updated_at', 'datetime', true), field('SystemModstamp', 'datetime')])?.name).toBe(
      'SystemModstamp',
    );
    expect(bestCursor([field('updatedAt', 'datetime'), field('last_modified', 'datetime')])?.name).toBe('updatedAt');
    expect(bestCursor([field('updated_at', 'string'), field('created_at', 'datetime')])).toBeUndefined();
  });

  it('cdc when asked for and available; falls back with the reason otherwise', () => {
    const yes = { logicalReplication: true, reason: 'wal_level is logical' };
    const no = { logicalReplication: false, reason: 'wal_level is replica' };
    expect(inferEntityStrategy(orders, yes, { wantCdc: true }).updateStrategy).toBe('cdc');
    const fallback = inferEntityStrategy(orders, no, { wantCdc: true });
    expect(fallback).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'updated_at', mergeKeys: ['id'] });
    expect(fallback.why).toContain('wal_level is replica');
    expect(inferEntityStrategy(tags, undefined).updateStrategy).toBe('full_refresh');
    const keyless = inferEntityStrategy({ ...orders, primaryKey: [] }, yes, { wantCdc: true });
    expect(keyless.updateStrategy).toBe('incremental');
    expect(keyless.why).toContain('no primary key');
  });

  it('combines entities into the one strategy they all support', () => {
    const yes = { logicalReplication: true };
    const both = inferUpdateStrategy([orders, tags], yes, { wantCdc: true });
    expect(both).toMatchObject({
      updateStrategy: 'cdc',
      cdcConfig: { cursorField: 'lsn', cursorType: 'log_position' },
    });
    expect(both.mergeKeys).toEqual(['id']);
    const plain = inferUpdateStrategy([orders, tags], undefined);
    expect(plain.updateStrategy).toBe('full_refresh');
    expect(plain.strategies.map((s) => s.updateStrategy)).toEqual(['incremental', 'full_refresh']);
    expect(inferUpdateStrategy([orders], undefined)).toMatchObject({
      updateStrategy: 'incremental',
      incrementalKey: 'updated_at',
    });
  });
});

describe('relationships', () => {
  const field = (name: string): IntrospectedField => ({ name, type: 'number', nullable: false, sourceType: 'int8' });
  const entity = (partial: Partial<EntityDescription> & { name: string }): EntityDescription => ({
    fields: [field('id')],
    primaryKey: ['id'],
    uniqueKeys: [],
    foreignKeys: [],
    sample: [],
    ...partial,
  });

  it('one_to_many, one_to_one and many_to_many through a junction, from the referenced side', () => {
    const result = inferRelationships([
      entity({ name: 'customers' }),
      entity({
        name: 'orders',
        fields: [field('id'), field('customer_id')],
        foreignKeys: [
          { name: 'fk1', columns: ['customer_id'], referencedEntity: 'customers', referencedColumns: ['id'] },
        ],
      }),
      entity({
        name: 'profiles',
        fields: [field('id'), field('customer_id')],
        uniqueKeys: [{ name: 'u', columns: ['customer_id'] }],
        foreignKeys: [
          { name: 'fk2', columns: ['customer_id'], referencedEntity: 'customers', referencedColumns: ['id'] },
        ],
      }),
      entity({ name: 'products' }),
      entity({ name: 'tags' }),
      entity({
        name: 'product_tags',
        fields: [field('product_id'), field('tag_id')],
        primaryKey: ['product_id', 'tag_id'],
        foreignKeys: [
          { name: 'a_product', columns: ['product_id'], referencedEntity: 'products', referencedColumns: ['id'] },
          { name: 'b_tag', columns: ['tag_id'], referencedEntity: 'tags', referencedColumns: ['id'] },
        ],
      }),
      entity({
        name: 'audit',
        foreignKeys: [{ name: 'x', columns: ['id'], referencedEntity: 'other.users', referencedColumns: ['id'] }],
      }),
    ]);
    expect(result.relationships).toEqual([
      {
        from: { entity: 'customers', field: 'id' },
        to: { entity: 'orders', field: 'customer_id' },
        type: 'one_to_many',
      },
      {
        from: { entity: 'customers', field: 'id' },
        to: { entity: 'profiles', field: 'customer_id' },
        type: 'one_to_one',
      },
      {
        from: { entity: 'products', field: 'id' },
        to: { entity: 'product_tags', field: 'product_id' },
        type: 'one_to_many',
      },
      { from: { entity: 'tags', field: 'id' }, to: { entity: 'product_tags', field: 'tag_id' }, type: 'one_to_many' },
      { from: { entity: 'products', field: 'id' }, to: { entity: 'tags', field: 'id' }, type: 'many_to_many' },
    ]);
    expect(result.notes.join('\n')).toContain('other.users');
    expect(result.notes.join('\n')).toContain('through junction table product_tags');
  });
});

describe('type mapping', () => {
  it('PostgreSQL', () => {
    const pg = (name: string, typmod = -1, category = 'N') => mapPgType({ name, category }, typmod);
    expect(pg('int8')).toEqual({ type: 'number', numberHint: 'int64' });
    expect(pg('float8')).toEqual({ type: 'number', numberHint: 'float64' });
    expect(pg('numeric', ((12 << 16) | 2) + 4)).toEqual({ type: 'number', numberHint: 'decimal(12,2)' });
    expect(pg('numeric').type).toBe('string');
    expect(pg('numeric', ((50 << 16) | 2) + 4).type).toBe('string');
    expect(pg('timestamptz')).toEqual({ type: 'datetime' });
    expect(pg('jsonb')).toEqual({ type: 'json' });
    expect(pg('_int4', -1, 'A')).toEqual({ type: 'json' });
    expect(pg('uuid', -1, 'U')).toEqual({ type: 'string' });
  });

  it('MySQL/MariaDB', () => {
    const my = (
      dataType: string,
      columnType = dataType,
      precision: number | null = null,
      scale: number | null = null,
    ) => mapMysqlType({ dataType, columnType, precision, scale });
    expect(my('tinyint', 'tinyint(1)')).toEqual({ type: 'boolean' });
    expect(my('int', 'int(11)')).toEqual({ type: 'number', numberHint: 'int64' });
    expect(my('bigint', 'bigint(20) unsigned').numberHint).toBe('decimal(20,0)');
    expect(my('decimal', 'decimal(12,2)', 12, 2)).toEqual({ type: 'number', numberHint: 'decimal(12,2)' });
    expect(my('double')).toEqual({ type: 'number', numberHint: 'float64' });
    expect(my('datetime')).toEqual({ type: 'datetime' });
    expect(my('json')).toEqual({ type: 'json' });
    expect(
      mapMysqlType({ dataType: 'longtext', columnType: 'longtext', precision: null, scale: null, jsonChecked: true }),
    ).toEqual({ type: 'json' });
    expect(my('enum', "enum('a','b')")).toEqual({ type: 'string' });
    expect(jsonValidColumn('json_valid(`we``ird`)')).toBe('we`ird');
    expect(jsonValidColumn('`a` > 0')).toBeUndefined();
  });
});

describe('connection strings', () => {
  const env = { PG_URL: 'postgresql://cf:s3cr%40t@db:5432/shop', PW: 'hunter2' };

  it('expands references and refuses literal passwords without echoing them', () => {
    expect(expandEnvReference('${PG_URL}', env)).toBe(env.PG_URL);
    expect(() => expandEnvReference('${NOPE}', env)).toThrow(/NOPE is not set/);
    for (const literal of ['postgresql://cf:hunter2@db/shop', 'mysql://db/shop?password=hunter2']) {
      let error: unknown;
      try {
        assertNoLiteralPassword(literal);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(FactoryError);
      expect(JSON.stringify([(error as FactoryError).message, (error as FactoryError).details])).not.toContain(
        'hunter2',
      );
    }
    expect(() => assertNoLiteralPassword('postgresql://cf:${PW}@db/shop')).not.toThrow();
    expect(resolveConnection('postgres', 'postgresql://cf:${PW}@db/shop', env).redacted).toBe(
      'postgresql://cf:***@db/shop',
    );
  });

  it('checks the scheme against the provider', () => {
    expect(providerFromUrl('postgres://x')).toBe('postgres');
    expect(providerFromUrl('mariadb://x')).toBe('mysql');
    expect(providerFromUrl('http://x')).toBeUndefined();
    expect(() => resolveConnection('mysql', '${PG_URL}', env)).toThrow(/postgres URL, but the provider is mysql/);
  });

  it('redacts and scrubs', () => {
    expect(redactConnectionUrl('postgresql://cf:p@ss/w@db:5432/shop')).not.toContain('ss');
    expect(redactConnectionUrl('postgresql://cf:p@ss@db:5432/shop')).toBe('postgresql://cf:***@db:5432/shop');
    expect(redactConnectionUrl('mysql://db/shop?user=cf&password=hunter2&ssl=1')).toBe(
      'mysql://db/shop?user=cf&password=***&ssl=1',
    );
    expect(redactConnectionUrl('postgresql://cf@db/shop')).toBe('postgresql://cf@db/shop');
    expect(redactConnectionUrl(env.PG_URL)).toBe('postgresql://cf:***@db:5432/shop');
    expect(scrubSecrets(`failed for s3cr@t and s3cr%40t at ${env.PG_URL}`, env.PG_URL)).toBe(
      'failed for *** and *** at postgresql://cf:***@db:5432/shop',
    );
  });
});

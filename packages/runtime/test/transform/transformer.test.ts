import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Field, FieldType, PiiHandling } from '@connector-factory/ir';
import { RuntimeError } from '../../src/errors.js';
import { conformValue } from '../../src/lake/conform.js';
import type { Row } from '../../src/lake/stage.js';
import type { SourceColumn } from '../../src/sources/source.js';
import { decryptValue, parseHashKey, hashValue } from '../../src/transform/pii.js';
import { createTransformer, sourceFieldsFor } from '../../src/transform/transformer.js';
import { ENCRYPTION_KEY, HASH_KEY, env, manifest } from './fixtures.js';

const at = new Date('2025-02-01T03:04:05.678Z');

const source: Row = {
  id: 7,
  email: 'john.doe@example.com',
  phone: '+1 (555) 123-4567',
  name: 'John Smith',
  salary: 123456.78,
  balance: '10.50',
  birth_date: '1984-02-29',
  active: true,
  updated_at: '2025-01-31T12:00:00Z',
  not_in_manifest: 'dropped',
};

const sourceColumns: SourceColumn[] = [
  { name: 'id', type: 'number', nullable: false, numberHint: 'int64', sourceType: 'int8' },
  { name: 'salary', type: 'number', nullable: true, numberHint: 'decimal(12,2)', sourceType: 'numeric(12,2)' },
  { name: 'balance', type: 'number', nullable: true, numberHint: 'decimal(12,2)', sourceType: 'numeric(12,2)' },
];

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('config');
    return (error as RuntimeError).message;
  }
  throw new Error('expected a config error');
}

describe('createTransformer: schema', () => {
  it('types PII columns string, keeps number hints for the others and adds metadata columns', () => {
    const t = createTransformer(manifest({ piiHandling: 'hash' }), 'customers', { sourceColumns, env });
    expect(t.schema.columns.map((c) => [c.name, c.type, c.physical.kind, c.nullable])).toEqual([
      ['id', 'number', 'int64', false],
      ['email', 'string', 'string', true],
      ['phone', 'string', 'string', true],
      ['name', 'string', 'string', false],
      ['salary', 'string', 'string', true],
      ['balance', 'number', 'decimal', true],
      ['birth_date', 'string', 'string', true],
      ['active', 'boolean', 'boolean', false],
      ['updated_at', 'datetime', 'timestamp', false],
      ['_extracted_at', 'datetime', 'timestamp', false],
      ['_connector_id', 'string', 'string', false],
      ['_connector_version', 'string', 'string', false],
    ]);
    expect(t.schema.incrementalKey).toBe('updated_at');
    expect(t.pii.map((p) => p.field)).toEqual(['email', 'phone', 'name', 'salary', 'birth_date']);
    expect(t.sourceFields).toHaveLength(9);
  });

  it('adds _op for cdc only', () => {
    const cdc = createTransformer(
      manifest({ updateStrategy: 'cdc', writeMode: 'merge', mergeKeys: ['id'] }),
      'customers',
      {},
    );
    expect(cdc.schema.columns.at(-1)).toMatchObject({ name: '_op', type: 'string' });
    expect(cdc.schema.mergeKeys).toEqual(['id']);
    const full = createTransformer(manifest({ updateStrategy: 'full_refresh' }), 'customers', {});
    expect(full.schema.columns.map((c) => c.name)).not.toContain('_op');
  });

  it('rejects fields that collide with metadata columns and unknown entities', () => {
    const fields: Field[] = [
      { name: 'id', type: 'number', nullable: false },
      { name: '_connector_id', type: 'string', nullable: true },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ];
    expect(configError(() => createTransformer(manifest({ fields }), 'customers', {}))).toContain(
      '"_connector_id" collides',
    );
    expect(configError(() => createTransformer(manifest(), 'orders', {}))).toContain('no entity "orders"');
  });

  it('loads keys only when a PII field needs them', () => {
    const fields = [
      { name: 'id', type: 'number', nullable: false },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ] satisfies Field[];
    expect(() => createTransformer(manifest({ fields, piiHandling: 'hash' }), 'customers', { env: {} })).not.toThrow();
    const message = configError(() => createTransformer(manifest({ piiHandling: 'hash' }), 'customers', { env: {} }));
    expect(message).toContain('CF_PII_HASH_KEY is not set');
    expect(message).toContain('"email", "phone", "name", "salary", "birth_date" are marked pii');
    expect(
      configError(() => createTransformer(manifest({ piiHandling: 'encrypt' }), 'customers', { env: {} })),
    ).toContain('CF_PII_ENCRYPTION_KEY is not set');
  });
});

describe('createTransformer: apply', () => {
  it('masks', () => {
    const t = createTransformer(manifest({ piiHandling: 'mask' }), 'customers', { sourceColumns });
    expect(t.apply([source], at)).toEqual([
      {
        id: 7,
        email: 'j***@e***.com',
        phone: '+* (***) ***-**67',
        name: 'J*********',
        salary: '******.**',
        balance: '10.50',
        birth_date: '****-**-**',
        active: true,
        updated_at: '2025-01-31T12:00:00Z',
        _extracted_at: at,
        _connector_id: 'connector_postgres_customers_v1',
        _connector_version: '1.2.3',
      },
    ]);
  });

  it('hashes with the key from the environment, stably across transformers', () => {
    const a = createTransformer(manifest({ piiHandling: 'hash' }), 'customers', { env }).apply([source], at)[0]!;
    const b = createTransformer(manifest({ piiHandling: 'hash' }), 'customers', {
      env: { CF_PII_HASH_KEY: HASH_KEY },
    }).apply([{ ...source, salary: '123456.780' }], at)[0]!;
    expect(a.email).toBe(hashValue('john.doe@example.com', 'string', parseHashKey(HASH_KEY)));
    expect(a).toEqual(b);
    const c = createTransformer(manifest({ piiHandling: 'hash' }), 'customers', {
      env: { CF_PII_HASH_KEY: 'a-different-secret-key' },
    }).apply([source], at)[0]!;
    expect(c.email).not.toBe(a.email);
  });

  it('encrypts with random IVs, and the values decrypt', () => {
    const t = createTransformer(manifest({ piiHandling: 'encrypt' }), 'customers', { env });
    const [a, b] = t.apply([source, source], at);
    expect(a!.email).toMatch(/^enc:v1:/);
    expect(a!.email).not.toBe(b!.email);
    expect(decryptValue(a!.email as string, ENCRYPTION_KEY)).toBe('john.doe@example.com');
    expect(decryptValue(a!.salary as string, ENCRYPTION_KEY)).toBe('123456.78');
    expect(a!.id).toBe(7);
  });

  it('excludes: the column leaves the schema, the source field list and every row', () => {
    const m = manifest({ piiHandling: 'exclude' });
    const t = createTransformer(m, 'customers', { sourceColumns });
    const names = t.schema.columns.map((c) => c.name);
    for (const pii of ['email', 'phone', 'name', 'salary', 'birth_date']) {
      expect(names).not.toContain(pii);
      expect(t.sourceFields).not.toContain(pii);
    }
    expect(sourceFieldsFor(m, 'customers')).toEqual(['id', 'balance', 'active', 'updated_at']);
    const rows = t.apply([source, { id: 8, email: 'jane@example.com' }], at);
    expect(Object.keys(rows[0]!)).toEqual([
      'id',
      'balance',
      'active',
      'updated_at',
      '_extracted_at',
      '_connector_id',
      '_connector_version',
    ]);
    const text = JSON.stringify(rows);
    for (const secret of ['john', 'jane', '555', 'Smith', '123456', '1984']) expect(text).not.toContain(secret);
  });

  it('leaves missing fields missing, keeps nulls, drops unknown fields and does not touch the input', () => {
    const t = createTransformer(manifest({ piiHandling: 'mask' }), 'customers', {});
    const input = { id: 1, email: null, toString: 'x', constructor: 'y' };
    const [row] = t.apply([input], at);
    expect(row).toEqual({
      id: 1,
      email: null,
      _extracted_at: at,
      _connector_id: 'connector_postgres_customers_v1',
      _connector_version: '1.2.3',
    });
    expect(input).toEqual({ id: 1, email: null, toString: 'x', constructor: 'y' });
  });

  it('does not read fields from Object.prototype for rows without them', () => {
    const fields: Field[] = [
      { name: 'id', type: 'number', nullable: false },
      { name: 'constructor', type: 'string', nullable: true, pii: true },
      { name: 'toString', type: 'string', nullable: true },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ];
    const t = createTransformer(manifest({ fields }), 'customers', {});
    expect(t.apply([{ id: 1 }], at)[0]).not.toHaveProperty('constructor');
    expect(Object.keys(t.apply([{ id: 1 }], at)[0]!)).not.toContain('toString');
    expect(t.apply([{ id: 1, constructor: 'Carla', toString: 'x' }], at)[0]).toMatchObject({
      constructor: 'C****',
      toString: 'x',
    });
  });

  it('keeps _op for cdc (deletes carry only keys) and drops it otherwise', () => {
    const m = manifest({ updateStrategy: 'cdc', writeMode: 'merge', mergeKeys: ['email'], piiHandling: 'hash' });
    const t = createTransformer(m, 'customers', { env });
    const [upsert, del] = t.apply(
      [
        { ...source, _op: 'u' },
        { email: 'john.doe@example.com', _op: 'd' },
      ],
      at,
    );
    expect(upsert!._op).toBe('u');
    expect(del).toEqual({
      email: upsert!.email,
      _op: 'd',
      _extracted_at: at,
      _connector_id: 'connector_postgres_customers_v1',
      _connector_version: '1.2.3',
    });
    const plain = createTransformer(manifest(), 'customers', {});
    expect(plain.apply([{ ...source, _op: 'u' }], at)[0]).not.toHaveProperty('_op');
  });

  it('uses the clock when no extraction time is given, and copies the Date', () => {
    const t = createTransformer(manifest(), 'customers', { now: () => new Date(at) });
    const extracted = new Date(at);
    const [a] = t.apply([source]);
    const [b] = t.apply([source], extracted);
    extracted.setTime(0);
    expect(a!._extracted_at).toEqual(at);
    expect(b!._extracted_at).toEqual(at);
    expect(() => t.apply([source], new Date(Number.NaN))).toThrow(RuntimeError);
  });
});

describe('createTransformer: bulk pages', () => {
  const fields: Field[] = [
    { name: 'id', type: 'number', nullable: false },
    { name: 'doc', type: 'json', nullable: true },
    { name: 'note', type: 'string', nullable: true },
  ];
  const columnsOf = (doc: FieldType): SourceColumn[] => [
    { name: 'id', type: 'number', nullable: false, numberHint: 'int64', sourceType: 'int8' },
    { name: 'doc', type: doc, nullable: true, sourceType: 'jsonb' },
    { name: 'note', type: 'string', nullable: true, sourceType: 'text' },
  ];
  const open = (over: { fields?: Field[]; doc?: FieldType; piiHandling?: PiiHandling } = {}) =>
    createTransformer(
      manifest({
        fields: over.fields ?? fields,
        updateStrategy: 'full_refresh',
        piiHandling: over.piiHandling ?? 'mask',
      }),
      'customers',
      { sourceColumns: columnsOf(over.doc ?? 'json'), env },
    );

  it('lets a json column pass in binary form but not as CSV text (the row path parses it)', () => {
    const t = open();
    expect({ bulk: t.passesBulk, csv: t.passesCsv }).toEqual({ bulk: true, csv: false });
    const fill = () => [];
    expect(t.columnarPage({ rows: 1, fields: ['id', 'doc', 'note'], fill }, at).constants).toMatchObject({
      _connector_id: 'connector_postgres_customers_v1',
    });
    expect(() =>
      t.csvPage({ data: Buffer.from('1,{},x\n'), rows: 1, fields: ['id', 'doc', 'note'], longestRow: 7 }, at),
    ).toThrow(/read them as rows/);
  });

  it('passes neither way when a field is transformed or typed apart from the catalog', () => {
    const masked = open({ fields: fields.map((f) => (f.name === 'note' ? { ...f, pii: true } : f)) });
    expect({ bulk: masked.passesBulk, csv: masked.passesCsv }).toEqual({ bulk: false, csv: false });
    expect(() => masked.columnarPage({ rows: 1, fields: ['id', 'doc', 'note'], fill: () => [] }, at)).toThrow(
      /read them as rows/,
    );
    const retyped = open({ doc: 'string' });
    expect({ bulk: retyped.passesBulk, csv: retyped.passesCsv }).toEqual({ bulk: false, csv: false });
  });

  it('passes both ways when every field is as the catalog has it and CSV-safe', () => {
    const t = open({ fields: fields.filter((f) => f.name !== 'doc') });
    expect({ bulk: t.passesBulk, csv: t.passesCsv }).toEqual({ bulk: true, csv: true });
  });
});

describe('createTransformer: keys that must survive PII handling', () => {
  const piiId: Field[] = [
    { name: 'id', type: 'string', nullable: false, pii: true },
    { name: 'region', type: 'string', nullable: true },
    { name: 'updated_at', type: 'datetime', nullable: false },
  ];

  it('rejects a merge key masked, encrypted or excluded, and explains why', () => {
    const m = (piiHandling: PiiHandling) =>
      manifest({ fields: piiId, writeMode: 'merge', mergeKeys: ['id'], piiHandling });
    expect(configError(() => createTransformer(m('mask'), 'customers', { env }))).toMatch(
      /merge key "id" is marked pii with piiHandling mask: masks are not unique.*use governance.piiHandling "hash"/,
    );
    expect(configError(() => createTransformer(m('encrypt'), 'customers', { env }))).toContain('random IV');
    expect(configError(() => createTransformer(m('exclude'), 'customers', { env }))).toContain('nothing to match on');
    const hashed = createTransformer(m('hash'), 'customers', { env });
    expect(hashed.schema.mergeKeys).toEqual(['id']);
  });

  it('uses the primary key when the manifest names no merge keys', () => {
    const m = manifest({ fields: piiId, writeMode: 'merge', primaryKey: ['id'], piiHandling: 'mask' });
    expect(configError(() => createTransformer(m, 'customers', {}))).toContain('merge key "id"');
  });

  it('allows any handling of a key outside merge mode', () => {
    const m = manifest({ fields: piiId, writeMode: 'append', primaryKey: ['id'], piiHandling: 'exclude' });
    expect(createTransformer(m, 'customers', {}).schema.mergeKeys).toEqual([]);
  });

  it('rejects an incremental key masked, encrypted or excluded; hash is fine', () => {
    const fields: Field[] = [
      { name: 'id', type: 'number', nullable: false },
      { name: 'updated_at', type: 'datetime', nullable: false, pii: true },
    ];
    for (const piiHandling of ['mask', 'encrypt', 'exclude'] as const) {
      expect(configError(() => createTransformer(manifest({ fields, piiHandling }), 'customers', { env }))).toContain(
        `incrementalKey "updated_at" is marked pii with piiHandling ${piiHandling}`,
      );
    }
    const hashed = createTransformer(manifest({ fields, piiHandling: 'hash' }), 'customers', { env });
    expect(hashed.schema.incrementalKey).toBe('updated_at');
  });

  it('rejects partitioning by an encrypted or excluded column', () => {
    for (const piiHandling of ['encrypt', 'exclude'] as const) {
      expect(
        configError(() => createTransformer(manifest({ piiHandling, partitionBy: ['email'] }), 'customers', { env })),
      ).toContain('partition column "email"');
    }
    expect(() =>
      createTransformer(manifest({ piiHandling: 'mask', partitionBy: ['email'] }), 'customers', {}),
    ).not.toThrow();
  });
});

describe('createTransformer: never throws on row values', () => {
  const types: FieldType[] = ['string', 'number', 'boolean', 'date', 'datetime', 'json'];
  const fields: Field[] = [
    ...types.map((type) => ({ name: `plain_${type}`, type, nullable: true })),
    ...types.map((type) => ({ name: `pii_${type}`, type, nullable: true, pii: true })),
    { name: 'updated_at', type: 'datetime', nullable: true },
  ];
  const anything = fc.anything({
    withBigInt: true,
    withDate: true,
    withBoxedValues: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withObjectString: true,
    withUnicodeString: true,
  });
  const value = fc.oneof(
    anything,
    fc.string({ unit: 'binary' }),
    fc.emailAddress(),
    fc.double(),
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
    fc.constantFrom(null, undefined, '', '2025-01-31', '2025-01-31T12:00:00+01:00', '+1 (555) 123-4567', '1e400'),
  );
  const row = fc.dictionary(fc.constantFrom(...fields.map((f) => f.name), '_op', 'extra'), value, {
    maxKeys: fields.length + 2,
  });

  for (const piiHandling of ['mask', 'hash', 'encrypt', 'exclude'] as const) {
    for (const updateStrategy of ['incremental', 'cdc'] as const) {
      it(`${piiHandling}, ${updateStrategy}`, () => {
        const t = createTransformer(manifest({ fields, piiHandling, updateStrategy }), 'customers', { env });
        const columns = new Map(t.schema.columns.map((c) => [c.name, c]));
        fc.assert(
          fc.property(fc.array(row, { maxLength: 5 }), (rows) => {
            const out = t.apply(rows, at);
            expect(out).toHaveLength(rows.length);
            out.forEach((o, i) => {
              for (const [name, v] of Object.entries(o)) {
                const column = columns.get(name);
                expect(column, name).toBeDefined();
                if (name.startsWith('pii_')) {
                  // PII columns only ever hold null or text, which the string column takes as is.
                  expect(v === null || typeof v === 'string').toBe(true);
                  expect(conformValue(v, column!).ok).toBe(true);
                  if (typeof v === 'string' && piiHandling === 'encrypt') {
                    expect(decryptValue(v, ENCRYPTION_KEY)).toBeTypeOf('string');
                  }
                } else if (!name.startsWith('_')) {
                  expect(v).toBe(rows[i]![name]);
                }
              }
            });
          }),
          { numRuns: 150 },
        );
      });
    }
  }
});

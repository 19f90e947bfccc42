import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import type { Add, DeltaAction, DeltaField } from '../../src/lake/formats/delta/delta-actions.js';
import {
  decimalType,
  decodeDeltaPath,
  encodeDeltaPath,
  newMetadata,
  newProtocol,
  parsePartitionValue,
  parseSchemaString,
  schemaString,
  serializePartitionValue,
  statsString,
} from '../../src/lake/formats/delta/delta-actions.js';
import { DeltaLog, checkpointKey, commitKey } from '../../src/lake/formats/delta/delta-log.js';
import { FileStore } from '../../src/stores/file/file-store.js';

const folders: string[] = [];
function tempStore(): FileStore {
  const dir = mkdtempSync(join(tmpdir(), 'cf-delta-'));
  folders.push(dir);
  return new FileStore(dir);
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const FIELDS: DeltaField[] = [
  { name: 'id', type: 'long', nullable: false },
  { name: 'amount', type: decimalType(12, 2), nullable: true },
  { name: 'dt', type: 'date', nullable: true },
];

function add(path: string, dt: string | null = '2025-01-31'): Add {
  return {
    path,
    partitionValues: { dt },
    size: 100,
    modificationTime: 1_700_000_000_000,
    dataChange: true,
    stats: statsString({ numRecords: 3, minValues: { id: 1n }, maxValues: { id: 3n }, nullCount: { id: 0 } }),
  };
}

const remove = (path: string): DeltaAction => ({ remove: { path, deletionTimestamp: Date.now(), dataChange: true } });

async function createTable(store: FileStore, files: string[] = ['dt=2025-01-31/a.parquet']): Promise<DeltaLog> {
  const log = await DeltaLog.open(store);
  const metaData = newMetadata({ fields: FIELDS, partitionColumns: ['dt'], name: 'orders' });
  await log.commit([{ protocol: newProtocol() }, { metaData }, ...files.map((f) => ({ add: add(f) }))], {
    operation: 'CREATE TABLE',
    readVersion: -1,
    isBlindAppend: false,
  });
  return log;
}

async function conflictOf(promise: Promise<unknown>): Promise<RuntimeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RuntimeError) return error;
    throw error;
  }
  throw new Error('expected a RuntimeError');
}

describe('DeltaLog', () => {
  it('reports a missing table as version -1', async () => {
    const log = await DeltaLog.open(tempStore());
    const snap = await log.snapshot();
    expect(snap.version).toBe(-1);
    expect(snap.metadata).toBeUndefined();
    expect(snap.files.size).toBe(0);
    expect(await log.txnVersion('app')).toBeUndefined();
  });

  it('creates a table and reads it back from the JSON log', async () => {
    const store = tempStore();
    await createTable(store);
    const text = new TextDecoder().decode(await store.get(commitKey(0)));
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(lines[0]!)).toEqual(['commitInfo']);
    expect(lines.map((l) => Object.keys(l)[0])).toEqual(['commitInfo', 'protocol', 'metaData', 'add']);

    const snap = await (await DeltaLog.open(store)).snapshot();
    expect(snap.version).toBe(0);
    expect(snap.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(snap.metadata?.partitionColumns).toEqual(['dt']);
    expect(snap.metadata?.name).toBe('orders');
    expect(parseSchemaString(snap.metadata!.schemaString)).toEqual(FIELDS.map((f) => ({ ...f, metadata: {} })));
    expect([...snap.files.keys()]).toEqual(['dt=2025-01-31/a.parquet']);
    expect(JSON.parse(snap.files.get('dt=2025-01-31/a.parquet')!.stats!)).toEqual({
      numRecords: 3,
      minValues: { id: 1 },
      maxValues: { id: 3 },
      nullCount: { id: 0 },
    });
  });

  it('reconciles adds and removes and keeps tombstones', async () => {
    const store = tempStore();
    const log = await createTable(store, ['a.parquet', 'b.parquet']);
    await log.commit([{ add: add('c.parquet') }], { operation: 'WRITE', readVersion: 0, isBlindAppend: true });
    await log.commit([remove('a.parquet'), { add: add('d.parquet') }], {
      operation: 'MERGE',
      readVersion: 1,
      isBlindAppend: false,
    });
    const snap = await (await DeltaLog.open(store)).snapshot();
    expect(snap.version).toBe(2);
    expect([...snap.files.keys()].sort()).toEqual(['b.parquet', 'c.parquet', 'd.parquet']);
    expect([...snap.tombstones.keys()]).toEqual(['a.parquet']);
    // Time travel replays only up to the version asked for.
    expect([...(await log.snapshot(1)).files.keys()].sort()).toEqual(['a.parquet', 'b.parquet', 'c.parquet']);
    expect([...(await (await DeltaLog.open(store)).snapshot(0)).files.keys()].sort()).toEqual([
      'a.parquet',
      'b.parquet',
    ]);
    await expect(log.snapshot(7)).rejects.toThrow(/no version 7/);
  });

  it('tracks the last txn version of each application', async () => {
    const store = tempStore();
    const log = await createTable(store);
    const write = (appId: string, version: number, readVersion: number) =>
      log.commit([{ add: add(`${appId}-${version}.parquet`) }, { txn: { appId, version, lastUpdated: Date.now() } }], {
        operation: 'WRITE',
        readVersion,
        isBlindAppend: true,
      });
    await write('pipeline-a', 1, 0);
    await write('pipeline-b', 7, 1);
    await write('pipeline-a', 2, 2);
    expect(await log.txnVersion('pipeline-a')).toBe(2);
    expect(await log.txnVersion('pipeline-b')).toBe(7);
    expect(await log.txnVersion('other')).toBeUndefined();
    const reopened = await DeltaLog.open(store);
    expect((await reopened.snapshot()).txns).toEqual(
      new Map([
        ['pipeline-a', 2],
        ['pipeline-b', 7],
      ]),
    );
  });

  it('retries a blind append that lost the race at the next version', async () => {
    const store = tempStore();
    await createTable(store);
    const one = await DeltaLog.open(store);
    const two = await DeltaLog.open(store);
    const options = { operation: 'WRITE', readVersion: 0, isBlindAppend: true };
    expect(await one.commit([{ add: add('one.parquet') }], options)).toBe(1);
    expect(await two.commit([{ add: add('two.parquet') }], options)).toBe(2);
    const snap = await (await DeltaLog.open(store)).snapshot();
    expect([...snap.files.keys()].sort()).toEqual(['dt=2025-01-31/a.parquet', 'one.parquet', 'two.parquet']);
  });

  it('fails with conflict when both commits remove the same file', async () => {
    const store = tempStore();
    await createTable(store, ['a.parquet', 'b.parquet']);
    const one = await DeltaLog.open(store);
    const two = await DeltaLog.open(store);
    const options = { operation: 'MERGE', readVersion: 0, isBlindAppend: false };
    await one.commit([remove('a.parquet'), { add: add('a2.parquet') }], options);
    const error = await conflictOf(two.commit([remove('a.parquet'), { add: add('a3.parquet') }], options));
    expect(error.code).toBe('conflict');
    expect(error.message).toMatch(/concurrent version 1: it also removed file a\.parquet/);
    expect((await two.snapshot()).version).toBe(1);
  });

  it('fails with conflict on a concurrent metadata change, table creation or same txn', async () => {
    const store = tempStore();
    await createTable(store);
    const one = await DeltaLog.open(store);
    const two = await DeltaLog.open(store);
    const current = (await one.snapshot()).metadata!;
    await one.commit([{ metaData: { ...current, configuration: { 'delta.appendOnly': 'false' } } }], {
      operation: 'SET TBLPROPERTIES',
      readVersion: 0,
      isBlindAppend: false,
    });
    const metadataError = await conflictOf(
      two.commit([{ add: add('x.parquet') }], { operation: 'WRITE', readVersion: 0, isBlindAppend: true }),
    );
    expect(metadataError.code).toBe('conflict');
    expect(metadataError.message).toMatch(/changed the table metadata/);

    const createError = await conflictOf(createTable(store));
    expect(createError.code).toBe('conflict');
    expect(createError.message).toMatch(/created concurrently/);

    const batch = (file: string): DeltaAction[] => [{ add: add(file) }, { txn: { appId: 'app', version: 5 } }];
    await one.commit(batch('p.parquet'), { operation: 'WRITE', readVersion: 1, isBlindAppend: true });
    const txnError = await conflictOf(
      two.commit(batch('q.parquet'), { operation: 'WRITE', readVersion: 1, isBlindAppend: true }),
    );
    expect(txnError.code).toBe('conflict');
    expect(txnError.message).toMatch(/already committed txn version 5/);
  });

  it('fails a non-blind commit when concurrent data arrived, and gives up after maxRetries', async () => {
    const store = tempStore();
    await createTable(store);
    const one = await DeltaLog.open(store);
    const two = await DeltaLog.open(store);
    await one.commit([{ add: add('new.parquet') }], { operation: 'WRITE', readVersion: 0, isBlindAppend: true });
    const overwrite = await conflictOf(
      two.commit([remove('dt=2025-01-31/a.parquet'), { add: add('all.parquet') }], {
        operation: 'WRITE',
        readVersion: 0,
        isBlindAppend: false,
      }),
    );
    expect(overwrite.code).toBe('conflict');
    expect(overwrite.message).toMatch(/added data \(new\.parquet\)/);

    await one.commit([{ add: add('more.parquet') }], { operation: 'WRITE', readVersion: 1, isBlindAppend: true });
    const exhausted = await conflictOf(
      two.commit([{ add: add('late.parquet') }], {
        operation: 'WRITE',
        readVersion: 0,
        isBlindAppend: true,
        maxRetries: 0,
      }),
    );
    expect(exhausted.code).toBe('conflict');
    expect(exhausted.message).toMatch(/maxRetries 0/);
  });

  it('refuses misuse and tables it cannot write', async () => {
    const store = tempStore();
    const log = await DeltaLog.open(store);
    await expect(
      log.commit([{ add: add('a.parquet') }], { operation: 'WRITE', readVersion: -1, isBlindAppend: true }),
    ).rejects.toThrow(/needs a protocol and a metaData/);
    await expect(
      log.commit([{ add: add('a.parquet') }], { operation: 'WRITE', readVersion: 3, isBlindAppend: true }),
    ).rejects.toThrow(/ahead of the table/);

    const newer = await DeltaLog.open(tempStore());
    const error = await conflictOf(
      newer.commit(
        [
          {
            protocol: {
              minReaderVersion: 3,
              minWriterVersion: 7,
              readerFeatures: ['deletionVectors'],
              writerFeatures: ['deletionVectors'],
            },
          },
          { metaData: newMetadata({ fields: FIELDS }) },
        ],
        {
          operation: 'CREATE TABLE',
          readVersion: -1,
          isBlindAppend: false,
        },
      ),
    );
    expect(error.code).toBe('config');
    expect(error.message).toMatch(/writer version 7 \(features: deletionVectors\)/);

    const appendOnly = await DeltaLog.open(tempStore());
    const appendOnlyMetadata = newMetadata({
      fields: FIELDS,
      partitionColumns: ['dt'],
      configuration: { 'delta.appendOnly': 'true' },
    });
    await appendOnly.commit(
      [{ protocol: newProtocol() }, { metaData: appendOnlyMetadata }, { add: add('a.parquet') }],
      {
        operation: 'CREATE TABLE',
        readVersion: -1,
        isBlindAppend: false,
      },
    );
    await expect(
      appendOnly.commit([remove('a.parquet')], { operation: 'DELETE', readVersion: 0, isBlindAppend: false }),
    ).rejects.toThrow(/append-only/);
    // Every file must carry a value (possibly null) for every partition column.
    const unpartitioned: Add = { ...add('b.parquet'), partitionValues: {} };
    await expect(
      appendOnly.commit([{ add: unpartitioned }], { operation: 'WRITE', readVersion: 0, isBlindAppend: true }),
    ).rejects.toThrow(/partition values for \[\] but .* is partitioned by \[dt\]/);
  });

  it('writes a parquet checkpoint at version 10 that rebuilds the same snapshot', async () => {
    const store = tempStore();
    const log = await createTable(store, ['a.parquet', 'b.parquet']);
    for (let v = 1; v <= 11; v++) {
      const actions: DeltaAction[] = [
        { add: add(`f${v}.parquet`, v % 2 ? null : '2025-02-01') },
        { txn: { appId: 'app', version: v } },
      ];
      if (v === 5) actions.push(remove('a.parquet'));
      await log.commit(actions, { operation: 'WRITE', readVersion: v - 1, isBlindAppend: v !== 5 });
    }
    expect(await store.get(checkpointKey(10))).toBeDefined();
    expect(JSON.parse(new TextDecoder().decode(await store.get('_delta_log/_last_checkpoint')))).toMatchObject({
      version: 10,
      size: 2 + 1 + 11 + 1,
    });

    const replayed = await log.snapshot(); // this instance's cache: a pure replay of the JSON commits
    // Remove the JSON commits the checkpoint covers: a reader must now start from the checkpoint.
    await store.delete(Array.from({ length: 10 }, (_, v) => commitKey(v)));
    const fromCheckpoint = await (await DeltaLog.open(store)).snapshot();
    expect(fromCheckpoint.version).toBe(11);
    expect(fromCheckpoint).toEqual(replayed);
    expect(fromCheckpoint.files.get('f1.parquet')!.partitionValues).toEqual({ dt: null });
    expect(fromCheckpoint.txns.get('app')).toBe(11);
    expect([...fromCheckpoint.tombstones.keys()]).toEqual(['a.parquet']);

    // Without _last_checkpoint the reader finds the checkpoint by listing.
    await store.delete(['_delta_log/_last_checkpoint']);
    expect(await (await DeltaLog.open(store)).snapshot()).toEqual(replayed);
    // Versions the remaining log cannot rebuild are reported, not invented.
    await expect((await DeltaLog.open(store)).snapshot(5)).rejects.toThrow(/cannot be rebuilt/);
  });
});

describe('Delta schema and partition values', () => {
  it('round-trips a schemaString, nested types and column metadata', () => {
    const fields: DeltaField[] = [
      { name: 'id', type: 'long', nullable: false, metadata: { comment: 'key' } },
      { name: 'price', type: 'decimal(38,9)', nullable: true, metadata: {} },
      {
        name: 'address',
        type: { type: 'struct', fields: [{ name: 'city', type: 'string', nullable: true, metadata: {} }] },
        nullable: true,
        metadata: {},
      },
      {
        name: 'tags',
        type: { type: 'array', elementType: 'string', containsNull: true },
        nullable: true,
        metadata: {},
      },
      {
        name: 'attrs',
        type: { type: 'map', keyType: 'string', valueType: 'double', valueContainsNull: true },
        nullable: true,
        metadata: {},
      },
      ...(['integer', 'short', 'byte', 'double', 'float', 'boolean', 'date', 'timestamp', 'binary'] as const).map(
        (type) => ({
          name: `c_${type}`,
          type,
          nullable: true,
          metadata: {},
        }),
      ),
    ];
    const text = schemaString(fields);
    expect((JSON.parse(text) as { fields: unknown[] }).fields[0]).toEqual({
      name: 'id',
      type: 'long',
      nullable: false,
      metadata: { comment: 'key' },
    });
    expect(parseSchemaString(text)).toEqual(fields);
    expect(
      parseSchemaString('{"type":"struct","fields":[{"name":"d","type":"decimal(10, 2)","nullable":true}]}'),
    ).toEqual([{ name: 'd', type: 'decimal(10,2)', nullable: true, metadata: {} }]);
    expect(() => schemaString([...fields, { name: 'ID', type: 'string', nullable: true }])).toThrow(/appears twice/);
    expect(() => decimalType(39, 2)).toThrow(/precision 1\.\.38/);
    expect(() =>
      parseSchemaString('{"type":"struct","fields":[{"name":"v","type":"variant","nullable":true}]}'),
    ).toThrow(/unsupported type "variant"/);
  });

  it('serializes partition values as the protocol specifies', () => {
    expect(serializePartitionValue('2025-01-31', 'date')).toBe('2025-01-31');
    expect(serializePartitionValue(new Date(Date.UTC(2025, 0, 31, 23, 59)), 'date')).toBe('2025-01-31');
    expect(serializePartitionValue(new Date(Date.UTC(2025, 0, 31, 1, 2, 3, 45)), 'timestamp')).toBe(
      '2025-01-31 01:02:03.045000',
    );
    expect(serializePartitionValue(1_738_285_323_045_678n, 'timestamp')).toBe('2025-01-31 01:02:03.045678');
    expect(serializePartitionValue(-1n, 'timestamp')).toBe('1969-12-31 23:59:59.999999');
    expect(serializePartitionValue('2025-01-31T02:02:03.5+01:00', 'timestamp')).toBe('2025-01-31 01:02:03.500000');
    expect(serializePartitionValue(42, 'integer')).toBe('42');
    expect(serializePartitionValue(9_007_199_254_740_993n, 'long')).toBe('9007199254740993');
    expect(serializePartitionValue(1.5, 'double')).toBe('1.5');
    expect(serializePartitionValue('12.30', 'decimal(10,2)')).toBe('12.30');
    expect(serializePartitionValue(true, 'boolean')).toBe('true');
    expect(serializePartitionValue(Uint8Array.of(1, 2, 3), 'binary')).toBe('\u0001\u0002\u0003');
    expect(serializePartitionValue(null, 'string')).toBeNull();
    expect(serializePartitionValue(undefined, 'long')).toBeNull();
    expect(serializePartitionValue('', 'string')).toBeNull();
    expect(() => serializePartitionValue(1.5, 'long')).toThrow(RuntimeError);
    expect(() => serializePartitionValue('31/01/2025', 'date')).toThrow(/cannot be serialized as Delta type date/);
  });

  it('parses partition values back', () => {
    expect(parsePartitionValue('2025-01-31 01:02:03.045678', 'timestamp')).toBe(1_738_285_323_045_678n);
    expect(parsePartitionValue('1970-01-01T00:00:00.123456Z', 'timestamp')).toBe(123_456n);
    expect(parsePartitionValue('2025-01-31', 'date')).toBe('2025-01-31');
    expect(parsePartitionValue('9007199254740993', 'long')).toBe(9_007_199_254_740_993n);
    expect(parsePartitionValue('42', 'integer')).toBe(42);
    expect(parsePartitionValue('false', 'boolean')).toBe(false);
    expect(parsePartitionValue('', 'string')).toBeNull();
    expect(parsePartitionValue(null, 'date')).toBeNull();
    expect(() => parsePartitionValue('x', 'integer')).toThrow(/not a valid integer/);
  });

  it('URI-encodes file paths', () => {
    const key = 'ts=2025-01-31 01%3A02%3A03/part-0 é.parquet';
    expect(encodeDeltaPath(key)).toBe('ts=2025-01-31%2001%253A02%253A03/part-0%20%C3%A9.parquet');
    expect(decodeDeltaPath(encodeDeltaPath(key))).toBe(key);
  });
});

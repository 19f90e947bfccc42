import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import type { Row } from '../../src/records/record.js';
import type { EntityRef } from '../../src/sources/source.js';
import { testCaFile } from './tls-fixtures.js';
import { pgUrl, Puller, useCdcHarness } from './cdc-harness.js';
import { dropReplication, parseLsn, type PostgresCdcSettings } from '../../src/sources/postgres/cdc/index.js';

// PostgreSQL from scripts/services.sh (wal_level=logical); `npm test` exports PG_URL from .services/env.
// Without it every test here fails (never skips). Every test uses its own table, slot and publication
// (random suffix) and drops them: other test files share the server.

const cdc = useCdcHarness();
const reader = cdc.reader;

interface Fixture {
  readonly table: string;
  readonly slot: string;
  readonly publication: string;
  readonly entity: EntityRef;
  readonly mode: PostgresCdcSettings;
}

/** A table with a unique name, its slot and publication names, dropped after the test. */
async function fixture(
  columns = 'id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz, doc jsonb',
  fields?: string[],
): Promise<Fixture> {
  const suffix = randomBytes(4).toString('hex');
  const table = `cdc_t_${suffix}`;
  const slot = `cf_test_slot_${suffix}`;
  const publication = `cf_test_pub_${suffix}`;
  await cdc.admin.query(`CREATE TABLE ${table} (${columns})`);
  cdc.cleanup(async () => {
    await dropReplication(pgUrl(), slot, publication);
    await cdc.admin.query(`DROP TABLE IF EXISTS ${table}`);
  });
  const all = (
    await cdc.admin.query<{ attname: string }>(
      `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [table],
    )
  ).rows.map((r) => r.attname);
  return {
    table,
    slot,
    publication,
    entity: { name: table, fields: fields ?? all, primaryKey: ['id'] },
    mode: { publication, slot, heartbeatSeconds: 1 },
  };
}

async function confirmedFlush(slot: string): Promise<bigint | undefined> {
  const { rows } = await cdc.admin.query<{ lsn: string | null }>(
    `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return rows[0]?.lsn ? parseLsn(rows[0].lsn) : undefined;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ids = (rows: Row[]) => rows.map((r) => String(r.id));

describe('PostgresCdcReader', () => {
  it('takes a consistent snapshot, then streams inserts, updates and deletes in commit order with converted values', async () => {
    const f = await fixture();
    await cdc.admin.query(
      `INSERT INTO ${f.table} VALUES (1, 'one', 1.5, '2024-01-02 03:04:05.123456+00', '{"a": 1}'), (2, 'two', 2, NULL, NULL), (3, 'three', 3.25, '2024-06-30 23:59:59.000001+02', '[1, "x"]')`,
    );
    const puller = new Puller(reader().read(f.entity, f.mode, undefined));
    const snapshot = await puller.until((rows) => rows.length === 3);
    expect(snapshot.every((r) => r._op === 'r')).toBe(true);
    expect(snapshot.find((r) => r.id === '1')).toEqual({
      id: '1',
      name: 'one',
      amount: '1.50',
      at: '2024-01-02T03:04:05.123456Z',
      doc: { a: 1 },
      _op: 'r',
    });
    expect(snapshot.find((r) => r.id === '3')).toMatchObject({ at: '2024-06-30T21:59:59.000001Z', doc: [1, 'x'] });
    const snapshotState = puller.lastState!;
    expect(snapshotState).toEqual({ lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/), snapshotDone: true });
    expect(puller.chunks.filter((c) => c.state).length).toBe(1);

    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (4, 'four', 4.4, '2025-03-01 00:00:00+00', '{"n": null}')`);
    await cdc.admin.query(`UPDATE ${f.table} SET name = 'uno', amount = 10 WHERE id = 1`);
    await cdc.admin.query(`DELETE FROM ${f.table} WHERE id = 2`);
    await cdc.admin.query(
      `BEGIN; INSERT INTO ${f.table} (id, name) VALUES (5, 'five'); UPDATE ${f.table} SET name = 'cinq' WHERE id = 5; DELETE FROM ${f.table} WHERE id = 3; COMMIT`,
    );
    const changes = await puller.until((rows) => rows.length === 6);
    expect(changes.map((r) => [r._op, r.id])).toEqual([
      ['c', '4'],
      ['u', '1'],
      ['d', '2'],
      ['c', '5'],
      ['u', '5'],
      ['d', '3'],
    ]);
    expect(changes[0]).toEqual({
      id: '4',
      name: 'four',
      amount: '4.40',
      at: '2025-03-01T00:00:00.000000Z',
      doc: { n: null },
      _op: 'c',
    });
    expect(changes[1]).toEqual({
      id: '1',
      name: 'uno',
      amount: '10.00',
      at: '2024-01-02T03:04:05.123456Z',
      doc: { a: 1 },
      _op: 'u',
    });
    expect(changes[2]).toEqual({ id: '2', _op: 'd' }); // REPLICA IDENTITY DEFAULT: the key
    expect(changes[4]).toMatchObject({ id: '5', name: 'cinq', _op: 'u' });
    // Snapshot and changes alike are chunks of records, marked as such.
    expect(puller.chunks.map((c) => c.kind)).toEqual(puller.chunks.map(() => 'rows'));
    // States increase and come only at transaction ends.
    const lsns = puller.chunks.filter((c) => c.state).map((c) => parseLsn(c.state!.lsn));
    expect([...lsns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(lsns);
    await puller.return();
  });

  it('hands a big transaction over whole: several chunks, only the last with a state', async () => {
    const f = await fixture('id bigint PRIMARY KEY, pad text');
    const r = reader({ chunkRows: 10_000 });
    const puller = new Puller(r.read(f.entity, f.mode, undefined));
    await puller.until(() => true); // the (empty) snapshot
    await r.acknowledge(puller.lastState!);
    const before = puller.chunks.length;
    await cdc.admin.query(`INSERT INTO ${f.table} SELECT g, repeat('x', 20) FROM generate_series(1, 25000) g`);
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (25001, 'after')`);
    const rows = await puller.until((all) => all.length === 25_001);
    const chunks = puller.chunks.slice(before);
    const bigEnd = chunks.findIndex((c) => c.rows.some((row) => row.id === '25000'));
    expect(chunks.slice(0, bigEnd).every((c) => c.state === undefined && c.rows.length === 10_000)).toBe(true);
    expect(chunks[bigEnd]!.state).toBeDefined();
    // The big transaction's state is not before its last row: the chunk ends the transaction or a later one.
    expect(new Set(ids(rows)).size).toBe(25_001);
    expect(rows.every((row) => row._op === 'c')).toBe(true);
    expect(ids(rows.slice(0, 25_000))).toEqual(Array.from({ length: 25_000 }, (_, i) => String(i + 1)));
    await puller.return();
  });

  it('never waits on a paused socket with nothing to hand over (buffer limit at the chunk size)', async () => {
    // The queue seals a chunk of an open transaction only when the next row arrives; a buffer limit of one
    // chunk paused the socket right before that row, and the read stalled for good whenever a socket read
    // ended there (seen as rare CI stalls of the big-transaction cases).
    const f = await fixture('id bigint PRIMARY KEY, pad text');
    const r = reader({ chunkRows: 1, maxBufferedRows: 1 });
    const puller = new Puller(r.read(f.entity, f.mode, undefined));
    await puller.until(() => true); // the (empty) snapshot
    await r.acknowledge(puller.lastState!);
    await cdc.admin.query(`INSERT INTO ${f.table} SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g`);
    const rows = await puller.until((all) => all.length === 3000, 20_000);
    expect(new Set(ids(rows)).size).toBe(3000);
    await puller.return();
  });

  it('replays unacknowledged transactions after close and resume, never acknowledged ones', async () => {
    const f = await fixture('id bigint PRIMARY KEY, name text');
    const first = reader();
    const puller = new Puller(first.read(f.entity, f.mode, undefined));
    await puller.until(() => true);
    await first.acknowledge(puller.lastState!);

    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (1, 'a')`);
    await puller.until((rows) => rows.length === 1);
    const stateA = puller.lastState!;
    await first.acknowledge(stateA); // the lake committed A

    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (2, 'b')`);
    await puller.until((rows) => rows.length === 1);
    const stateB = puller.lastState!;
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (3, 'c')`);
    await puller.until((rows) => rows.length === 1);
    await puller.return();
    await first.close();

    // Only A is confirmed (perhaps a little beyond, over quiet WAL), never B.
    await waitFor(
      'the slot to be released',
      async () =>
        (await cdc.admin.query(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [f.slot])).rows[0]
          ?.active === false,
    );
    const confirmed = (await confirmedFlush(f.slot))!;
    expect(confirmed >= parseLsn(stateA.lsn)).toBe(true);
    expect(confirmed < parseLsn(stateB.lsn)).toBe(true);

    // Resume from A's state (the lake lost B and C): B and C come again.
    const second = reader();
    const again = new Puller(second.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, stateA));
    await again.drain();
    expect(again.rows.map((r) => [r._op, r.id])).toEqual([
      ['c', '2'],
      ['c', '3'],
    ]);
    await second.close();

    // A start position given with the settings, and no saved state, resumes the same way.
    const positioned = reader();
    const fromPosition = new Puller(
      positioned.read(f.entity, { ...f.mode, stopWhenCaughtUp: true, position: stateA }, undefined),
    );
    await fromPosition.drain();
    expect(fromPosition.rows.map((r) => [r._op, r.id])).toEqual([
      ['c', '2'],
      ['c', '3'],
    ]);
    await positioned.close();

    // Resume from B's state while the slot only confirmed A: the server sends B again, the reader skips it.
    const third = reader();
    const skipping = new Puller(third.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, stateB));
    await skipping.drain();
    expect(skipping.rows.map((r) => [r._op, r.id])).toEqual([['c', '3']]);
    await third.acknowledge(skipping.lastState!);
    await third.close();
    await waitFor(
      'the final confirmation',
      async () => (await confirmedFlush(f.slot))! >= parseLsn(skipping.lastState!.lsn),
    );

    // Nothing is pending any more.
    const fourth = reader();
    const nothing = new Puller(fourth.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, skipping.lastState));
    await nothing.drain();
    expect(nothing.rows).toEqual([]);
  });

  it('ends the iteration when caught up (stopWhenCaughtUp), after the snapshot and the pending changes', async () => {
    const f = await fixture('id bigint PRIMARY KEY, name text');
    await cdc.admin.query(`INSERT INTO ${f.table} SELECT g, 'snap' FROM generate_series(1, 5) g`);
    const r = reader();
    const started = Date.now();
    const puller = new Puller(r.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, undefined));
    await puller.drain();
    expect(puller.rows.length).toBe(5);
    await r.acknowledge(puller.lastState!);
    const state = puller.lastState!;
    await r.close();

    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (6, 'x')`);
    await cdc.admin.query(`UPDATE ${f.table} SET name = 'y' WHERE id = 6`);
    const next = reader();
    const resumed = new Puller(next.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, state));
    await resumed.drain();
    expect(resumed.rows.map((r) => [r._op, r.id, r.name])).toEqual([
      ['c', '6', 'x'],
      ['u', '6', 'y'],
    ]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('snapshots and streams over TLS (verify-full), the replication connection encrypted too', async () => {
    const ca = testCaFile();
    const f = await fixture('id bigint PRIMARY KEY, name text');
    await cdc.admin.query(`INSERT INTO ${f.table} SELECT g, 'snap' FROM generate_series(1, 3) g`);
    const r = reader({ tls: { mode: 'verify-full', caFile: ca } });
    const puller = new Puller(r.read(f.entity, f.mode, undefined));
    await puller.until((rows) => rows.length >= 3);
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (4, 'streamed')`);
    expect((await puller.until((rows) => rows.length >= 1)).map((row) => [row._op, row.id, row.name])).toEqual([
      ['c', '4', 'streamed'],
    ]);
    // The walsender streaming the slot is on a TLS connection.
    const { rows } = await cdc.admin.query<{ ssl: boolean }>(
      `SELECT s.ssl FROM pg_stat_ssl s WHERE s.pid = (SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1)`,
      [f.slot],
    );
    expect(rows).toEqual([{ ssl: true }]);
    await puller.return();
  });

  it('advances confirmed_flush_lsn on idle heartbeats while nothing is pending', async () => {
    const f = await fixture('id bigint PRIMARY KEY');
    const noise = `${f.table}_noise`;
    await cdc.admin.query(`CREATE TABLE ${noise} (id serial PRIMARY KEY, pad text)`);
    cdc.cleanup(async () => void (await cdc.admin.query(`DROP TABLE IF EXISTS ${noise}`)));
    const controller = new AbortController();
    const r = reader();
    const puller = new Puller(r.read(f.entity, { ...f.mode, heartbeatSeconds: 0.3 }, undefined, controller.signal));
    await puller.until(() => true);
    await r.acknowledge(puller.lastState!);
    const start = (await confirmedFlush(f.slot))!;
    // WAL the publication does not see: the slot must not pin it.
    await cdc.admin.query(`INSERT INTO ${noise} (pad) SELECT repeat('n', 100) FROM generate_series(1, 1000)`);
    const { rows } = await cdc.admin.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    const written = parseLsn(rows[0]!.lsn);
    const pending = puller.next(60_000); // the reader waits for changes meanwhile
    await waitFor(
      'confirmed_flush_lsn to pass the noise',
      async () => ((await confirmedFlush(f.slot)) ?? 0n) >= written,
      30_000,
    );
    expect((await confirmedFlush(f.slot))! > start).toBe(true);
    controller.abort();
    expect(await pending).toBeUndefined();
  });

  it('emits a key change as a delete of the old key and an update', async () => {
    const f = await fixture('id bigint PRIMARY KEY, name text');
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (1, 'a')`);
    const puller = new Puller(reader().read(f.entity, f.mode, undefined));
    await puller.until((rows) => rows.length === 1);
    await cdc.admin.query(`UPDATE ${f.table} SET id = 10 WHERE id = 1`);
    const rows = await puller.until((all) => all.length === 2);
    expect(rows).toEqual([
      { id: '1', _op: 'd' },
      { id: '10', name: 'a', _op: 'u' },
    ]);
    await puller.return();
  });

  it('fills unchanged TOAST values: from the old row with REPLICA IDENTITY FULL, read back by key otherwise, or leaves them out (omit)', async () => {
    const big = randomBytes(60_000).toString('hex'); // incompressible: stored out of line
    for (const variant of ['default', 'full', 'omit'] as const) {
      const f = await fixture('id bigint PRIMARY KEY, n int, doc text');
      if (variant === 'full') await cdc.admin.query(`ALTER TABLE ${f.table} REPLICA IDENTITY FULL`);
      await cdc.admin.query(`INSERT INTO ${f.table} VALUES (1, 0, $1)`, [big]);
      const puller = new Puller(
        reader(variant === 'omit' ? { unchangedToast: 'omit' } : {}).read(f.entity, f.mode, undefined),
      );
      await puller.until((rows) => rows.length === 1);
      await cdc.admin.query(`UPDATE ${f.table} SET n = 1 WHERE id = 1`);
      await cdc.admin.query(`UPDATE ${f.table} SET n = 2, doc = 'small' WHERE id = 1`);
      await cdc.admin.query(`DELETE FROM ${f.table} WHERE id = 1`);
      const rows = await puller.until((all) => all.length === 3);
      const [first, second, third] = rows;
      if (variant === 'full') expect(first).toEqual({ id: '1', n: 1, doc: big, _op: 'u' });
      // omit: left out. default: read back when handed over, after the row was deleted (all three
      // statements committed before the first pull), so there is no value; the delete follows.
      else expect(first).toEqual({ id: '1', n: 1, _op: 'u' });
      expect(second).toEqual({ id: '1', n: 2, doc: 'small', _op: 'u' });
      expect(third).toMatchObject({ id: '1', _op: 'd' });
      await puller.return();
    }
  });

  it('reads an unchanged TOAST value back from the table while the row exists', async () => {
    const big = randomBytes(60_000).toString('hex');
    const f = await fixture('id bigint PRIMARY KEY, n int, doc text');
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (1, 0, $1), (2, 0, 'short')`, [big]);
    const puller = new Puller(reader().read(f.entity, f.mode, undefined));
    await puller.until((rows) => rows.length === 2);
    await cdc.admin.query(`UPDATE ${f.table} SET n = n + 1`);
    const rows = await puller.until((all) => all.length === 2);
    expect(rows.find((r) => r.id === '1')).toEqual({ id: '1', n: 1, doc: big, _op: 'u' });
    expect(rows.find((r) => r.id === '2')).toEqual({ id: '2', n: 1, doc: 'short', _op: 'u' });
    await puller.return();
  });

  it('resumes a big transaction after its walsender is terminated mid-stream, without losing or repeating rows', async () => {
    const f = await fixture('id bigint PRIMARY KEY, pad text');
    const r = reader({ chunkRows: 5_000, maxBufferedRows: 5_000, reconnectDelayMs: 50 });
    const puller = new Puller(r.read(f.entity, f.mode, undefined));
    await puller.until(() => true);
    const before = puller.chunks.length;
    await cdc.admin.query(`INSERT INTO ${f.table} SELECT g, repeat('p', 300) FROM generate_series(1, 60000) g`);
    await puller.next(); // a first part of the transaction, without state
    expect(puller.chunks[before]!.state).toBeUndefined();
    const { rows: killed } = await cdc.admin.query<{ ok: boolean }>(
      `SELECT pg_terminate_backend(active_pid) AS ok FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`,
      [f.slot],
    );
    expect(killed[0]?.ok).toBe(true);
    for (;;) {
      const chunk = await puller.next();
      if (chunk?.state) break;
    }
    const rows = puller.chunks.slice(before).flatMap((c) => [...c.rows]);
    expect(rows.length).toBe(60_000);
    expect(new Set(ids(rows)).size).toBe(60_000);
    expect(puller.chunks.slice(before).filter((c) => c.state).length).toBe(1);
    await puller.return();
  });

  it('fails clearly on TRUNCATE, after handing over what committed before it', async () => {
    const f = await fixture('id bigint PRIMARY KEY');
    const puller = new Puller(reader().read(f.entity, f.mode, undefined));
    await puller.until(() => true);
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (1)`);
    await cdc.admin.query(`TRUNCATE ${f.table}`);
    await expect(puller.until((rows) => rows.length > 1)).rejects.toThrow(/truncated.*new snapshot/);
    expect(puller.rows.map((r) => r.id)).toEqual(['1']);
  });

  it('refuses tables whose deletes carry no key, and bad names, with the fix in the message', async () => {
    const f = await fixture('id bigint, name text');
    const read = (mode = f.mode) => new Puller(reader().read(f.entity, mode, undefined)).next();
    await expect(read()).rejects.toThrow(/REPLICA IDENTITY DEFAULT but no primary key.*REPLICA IDENTITY FULL/);
    await expect(read({ ...f.mode, slot: 'Bad-Name' })).rejects.toThrow(RuntimeError);
    await expect(read({ ...f.mode, publication: 'x'.repeat(64) })).rejects.toThrow(/at most 63/);
    // Resuming with a state whose slot was dropped: changes would be lost, so it says to take a new snapshot.
    await cdc.admin.query(`ALTER TABLE ${f.table} ADD PRIMARY KEY (id)`);
    const gone = new Puller(reader().read(f.entity, f.mode, { lsn: '0/1', snapshotDone: true }));
    await expect(gone.next()).rejects.toThrow(/slot .* no longer exists.*new snapshot/);
  });

  it('adds the table to an existing publication; dropReplication removes slot and publication idempotently', async () => {
    const f = await fixture('id bigint PRIMARY KEY');
    const other = `${f.table}_other`;
    await cdc.admin.query(`CREATE TABLE ${other} (id int PRIMARY KEY)`);
    cdc.cleanup(async () => void (await cdc.admin.query(`DROP TABLE IF EXISTS ${other}`)));
    await cdc.admin.query(`CREATE PUBLICATION ${f.publication} FOR TABLE ${other}`);
    const r = reader();
    const puller = new Puller(r.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, undefined));
    await puller.drain();
    const tables = await cdc.admin.query(`SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`, [
      f.publication,
    ]);
    expect(tables.rows.map((t) => t.tablename).sort()).toEqual([f.table, other].sort());
    // Changes of the other table in the same publication are not handed over.
    await cdc.admin.query(`INSERT INTO ${other} VALUES (1)`);
    await cdc.admin.query(`INSERT INTO ${f.table} VALUES (7)`);
    const resumed = new Puller(r.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, puller.lastState));
    await resumed.drain();
    expect(resumed.rows).toEqual([{ id: '7', _op: 'c' }]);

    // Drop while the reader still holds the slot (its connection is kept for acknowledgements).
    await dropReplication(pgUrl(), f.slot, f.publication);
    expect((await cdc.admin.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [f.slot])).rowCount).toBe(
      0,
    );
    expect((await cdc.admin.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [f.publication])).rowCount).toBe(
      0,
    );
    await dropReplication(pgUrl(), f.slot, f.publication);
  });

  it('restarts an unfinished snapshot: a slot left without state is dropped and created again', async () => {
    const f = await fixture('id bigint PRIMARY KEY');
    await cdc.admin.query(`INSERT INTO ${f.table} SELECT generate_series(1, 30)`);
    const first = new Puller(reader({ chunkRows: 10 }).read(f.entity, f.mode, undefined));
    await first.next();
    expect(first.chunks[0]!.state).toBeUndefined();
    await first.return(); // crashed mid-snapshot: no state saved
    const second = new Puller(
      reader({ chunkRows: 10 }).read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, undefined),
    );
    await second.drain();
    expect(second.rows.length).toBe(30);
    expect(second.chunks.filter((c) => c.state).length).toBe(1);
  });

  it('measures throughput: 100k single-row inserts in big and in small transactions', async () => {
    const f = await fixture('id bigint PRIMARY KEY, name text, amount numeric(12,2)');
    const r = reader();
    const puller = new Puller(r.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, undefined));
    await puller.drain();
    let state = puller.lastState!;
    await r.acknowledge(state);
    await r.close();

    const measure = async (label: string, sql: string) => {
      await cdc.admin.query(sql);
      const next = reader();
      const started = process.hrtime.bigint();
      const run = new Puller(next.read(f.entity, { ...f.mode, stopWhenCaughtUp: true }, state));
      let count = 0;
      while (await run.next(120_000)) count = run.rows.length;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      console.log(
        `[postgres-cdc] ${label}: ${count} changes in ${seconds.toFixed(2)} s = ${Math.round(count / seconds)} changes/s (${run.chunks.length} chunks)`,
      );
      state = run.lastState!;
      await next.acknowledge(state);
      await next.close();
      return count;
    };
    expect(
      await measure(
        '100k inserts in 10 transactions',
        `DO $$ BEGIN FOR t IN 0..9 LOOP INSERT INTO ${f.table} SELECT g, 'name ' || g, g / 100.0 FROM generate_series(t * 10000 + 1, t * 10000 + 10000) g; COMMIT; END LOOP; END $$`,
      ),
    ).toBe(100_000);
    expect(
      await measure(
        '100k inserts in 100k transactions',
        `DO $$ BEGIN SET LOCAL synchronous_commit = off; FOR i IN 100001..200000 LOOP INSERT INTO ${f.table} VALUES (i, 'name ' || i, i / 100.0); COMMIT; END LOOP; END $$`,
      ),
    ).toBe(100_000);
  }, 300_000);
});

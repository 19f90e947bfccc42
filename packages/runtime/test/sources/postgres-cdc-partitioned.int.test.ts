import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Row } from '../../src/records/record.js';
import type { EntityRef } from '../../src/sources/source.js';
import { dropReplication, type PostgresCdcSettings } from '../../src/sources/postgres/cdc/index.js';
import { pgUrl, Puller, useCdcHarness } from './cdc-harness.js';

// CDC of a range-partitioned table (relkind 'p') on the PostgreSQL at PG_URL (wal_level=logical, 13+):
// the publication publishes via the partition root, so every partition's changes arrive under the
// parent, including partitions attached while streaming, and a detached partition's no longer do.
// Each test uses its own schema, slot and publication (random suffix) and drops them.

const cdc = useCdcHarness();
const reader = () => cdc.reader();

interface Fixture {
  readonly schema: string;
  readonly parent: string;
  readonly slot: string;
  readonly publication: string;
  readonly entity: EntityRef;
  readonly mode: PostgresCdcSettings;
}

/** `payments` partitioned by range of paid_at into three quarters of 2024, in a schema of its own. */
async function partitioned(): Promise<Fixture> {
  const suffix = randomBytes(4).toString('hex');
  const schema = `cdc_part_${suffix}`;
  const parent = `${schema}.payments`;
  const slot = `cf_part_slot_${suffix}`;
  const publication = `cf_part_pub_${suffix}`;
  await cdc.admin.query(`CREATE SCHEMA ${schema}`);
  cdc.cleanup(async () => {
    await dropReplication(pgUrl(), slot, publication);
    await cdc.admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
  await cdc.admin.query(
    `CREATE TABLE ${parent} (id bigint NOT NULL, paid_at date NOT NULL, amount numeric(12,2), note text,
       PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at)`,
  );
  for (const [name, from, to] of [
    ['q1', '2024-01-01', '2024-04-01'],
    ['q2', '2024-04-01', '2024-07-01'],
    ['q3', '2024-07-01', '2024-10-01'],
  ] as const) {
    await cdc.admin.query(
      `CREATE TABLE ${schema}.payments_${name} PARTITION OF ${parent} FOR VALUES FROM ('${from}') TO ('${to}')`,
    );
  }
  return {
    schema,
    parent,
    slot,
    publication,
    entity: { name: parent, fields: ['id', 'paid_at', 'amount', 'note'], primaryKey: ['id', 'paid_at'] },
    mode: { publication, slot, heartbeatSeconds: 1 },
  };
}

const changes = (rows: Row[]) => rows.map((r) => `${String(r._op)} ${String(r.id)} ${String(r.paid_at)}`);

describe('PostgresCdcReader on a range-partitioned table', () => {
  it('snapshots every partition and streams each committed change once under the parent, while partitions are attached and detached', async () => {
    const f = await partitioned();
    await cdc.admin.query(
      `INSERT INTO ${f.parent} VALUES (1, '2024-01-15', 10, 'a'), (2, '2024-05-15', 20, 'b'), (3, '2024-08-15', 30, 'c')`,
    );
    const r = reader();
    const puller = new Puller(r.read(f.entity, f.mode, undefined));
    const snapshot = await puller.until((rows) => rows.length === 3);
    expect(changes(snapshot).sort()).toEqual(['r 1 2024-01-15', 'r 2 2024-05-15', 'r 3 2024-08-15']);
    const pub = await cdc.admin.query<{ pubviaroot: boolean }>(
      `SELECT pubviaroot FROM pg_publication WHERE pubname = $1`,
      [f.publication],
    );
    expect(pub.rows[0]?.pubviaroot).toBe(true);

    // Changes to each partition, through the parent and directly into a partition; a row moving partitions.
    await cdc.admin.query(`INSERT INTO ${f.parent} VALUES (4, '2024-02-01', 40, 'd')`);
    await cdc.admin.query(`INSERT INTO ${f.schema}.payments_q2 VALUES (5, '2024-06-01', 50, 'e')`);
    await cdc.admin.query(`UPDATE ${f.parent} SET amount = 31 WHERE id = 3`);
    await cdc.admin.query(`DELETE FROM ${f.schema}.payments_q1 WHERE id = 1`);
    await cdc.admin.query(`UPDATE ${f.parent} SET paid_at = '2024-09-01' WHERE id = 2`);
    // A fourth partition attached while streaming: rows routed to it and written to it directly arrive.
    await cdc.admin.query(`CREATE TABLE ${f.schema}.payments_q4 (LIKE ${f.parent} INCLUDING ALL)`);
    await cdc.admin.query(
      `ALTER TABLE ${f.parent} ATTACH PARTITION ${f.schema}.payments_q4 FOR VALUES FROM ('2024-10-01') TO ('2025-01-01')`,
    );
    await cdc.admin.query(`INSERT INTO ${f.parent} VALUES (6, '2024-11-11', 60, 'f')`);
    await cdc.admin.query(`INSERT INTO ${f.schema}.payments_q4 VALUES (7, '2024-12-24', 70, 'g')`);
    await cdc.admin.query(`UPDATE ${f.schema}.payments_q4 SET note = 'g2' WHERE id = 7`);
    // The first partition detached: its later changes are another table's, not the parent's.
    await cdc.admin.query(`ALTER TABLE ${f.parent} DETACH PARTITION ${f.schema}.payments_q1`);
    await cdc.admin.query(`INSERT INTO ${f.schema}.payments_q1 VALUES (8, '2024-03-03', 80, 'h')`);
    await cdc.admin.query(`UPDATE ${f.schema}.payments_q1 SET note = 'd2' WHERE id = 4`);
    await cdc.admin.query(`DELETE FROM ${f.schema}.payments_q1 WHERE id = 4`);
    await cdc.admin.query(`INSERT INTO ${f.parent} VALUES (9, '2024-12-31', 90, 'end')`);

    const streamed = await puller.until((rows) => rows.some((r) => r.id === '9'));
    expect(changes(streamed)).toEqual([
      'c 4 2024-02-01',
      'c 5 2024-06-01',
      'u 3 2024-08-15',
      'd 1 2024-01-15',
      'd 2 2024-05-15',
      'c 2 2024-09-01',
      'c 6 2024-11-11',
      'c 7 2024-12-24',
      'u 7 2024-12-24',
      'c 9 2024-12-31',
    ]);
    expect(streamed.find((r) => r._op === 'u' && r.id === '3')).toEqual({
      id: '3',
      paid_at: '2024-08-15',
      amount: '31.00',
      note: 'c',
      _op: 'u',
    });
    expect(streamed.find((r) => r._op === 'u' && r.id === '7')).toMatchObject({ note: 'g2', amount: '70.00' });
    await puller.return();

    // Resuming from the saved state reads nothing twice and goes on with the attached partition.
    const state = puller.lastState;
    await cdc.admin.query(`INSERT INTO ${f.schema}.payments_q4 VALUES (10, '2024-10-10', 100, 'k')`);
    const resumed = new Puller(r.read(f.entity, f.mode, state));
    expect(changes(await resumed.until((rows) => rows.length > 0))).toEqual(['c 10 2024-10-10']);
    await resumed.return();
  });

  it('publishes via the root on an existing publication that did not, and refuses to resume once that is undone', async () => {
    const f = await partitioned();
    await cdc.admin.query(`CREATE PUBLICATION ${f.publication} FOR TABLE ${f.parent}`);
    await cdc.admin.query(`INSERT INTO ${f.parent} VALUES (1, '2024-01-15', 10, 'a')`);
    const r = reader();
    const puller = new Puller(r.read(f.entity, f.mode, undefined));
    await puller.until((rows) => rows.length === 1);
    await cdc.admin.query(`INSERT INTO ${f.schema}.payments_q3 VALUES (2, '2024-07-15', 20, 'b')`);
    expect(changes(await puller.until((rows) => rows.length === 1))).toEqual(['c 2 2024-07-15']);
    await puller.return();
    const state = puller.lastState;

    await cdc.admin.query(`ALTER PUBLICATION ${f.publication} SET (publish_via_partition_root = false)`);
    const resumed = new Puller(r.read(f.entity, f.mode, state));
    await expect(resumed.until(() => true)).rejects.toThrow(
      /publish_via_partition_root.*ALTER PUBLICATION cf_part_pub_\w+ SET \(publish_via_partition_root = true\).*new snapshot/,
    );
  });

  it('refuses a partitioned table with a partition whose deletes would carry no key, naming it and the fix', async () => {
    const f = await partitioned();
    const s = f.schema;
    await cdc.admin.query(`ALTER TABLE ${f.parent} DROP CONSTRAINT payments_pkey`);
    for (const t of [f.parent, `${s}.payments_q1`, `${s}.payments_q2`])
      await cdc.admin.query(`ALTER TABLE ${t} REPLICA IDENTITY FULL`);
    const read = new Puller(reader().read(f.entity, f.mode, undefined));
    await expect(read.until(() => true)).rejects.toThrow(
      new RegExp(
        `partitions of .*payments.*: ${s}\\.payments_q3 \\(REPLICA IDENTITY DEFAULT without a primary key\\).*REPLICA IDENTITY FULL`,
      ),
    );
  });

  it('fails clearly on TRUNCATE of the parent; a TRUNCATE of one partition is not published by PostgreSQL (via the root)', async () => {
    const f = await partitioned();
    const puller = new Puller(reader().read(f.entity, f.mode, undefined));
    await puller.until(() => true);
    await cdc.admin.query(`INSERT INTO ${f.parent} VALUES (1, '2024-01-15', 10, 'a'), (2, '2024-05-15', 20, 'b')`);
    await cdc.admin.query(`TRUNCATE ${f.schema}.payments_q1`);
    await cdc.admin.query(`INSERT INTO ${f.parent} VALUES (3, '2024-08-15', 30, 'c')`);
    expect(changes(await puller.until((rows) => rows.length === 3))).toEqual([
      'c 1 2024-01-15',
      'c 2 2024-05-15',
      'c 3 2024-08-15',
    ]);
    await cdc.admin.query(`TRUNCATE ${f.parent}`);
    await expect(puller.until(() => false)).rejects.toThrow(/payments.* was truncated.*new snapshot/);
  });
});

// CDC part of `npm run bench -- pg`: N mixed inserts/updates/deletes committed to PostgreSQL while a CDC
// connector streams them into a Delta table with merge (flush interval 1 s). Prints changes/s sustained
// (first source commit → last lake commit) and the latency from each change's source commit to the lake
// commit that holds it (p50/p95), plus peak RSS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cdcManifest } from './manifests.mjs';

const changes = Number(process.argv[2] ?? 100_000);
const perTxn = Number(process.argv[3] ?? 50);
const url = process.env.PG_URL;
const rt = await import('../packages/runtime/dist/index.js');
const table = `bench_cdc_${process.pid}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`DROP TABLE IF EXISTS ${table}`);
await admin.query(
  `CREATE TABLE ${table} (id bigint PRIMARY KEY, txn bigint NOT NULL, customer_id int NOT NULL, total numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL)`,
);
await admin.query(`INSERT INTO ${table} SELECT i, 0, i % 100, i / 10.0, now() FROM generate_series(1, 50000) i`);

const lake = mkdtempSync(join(tmpdir(), 'cf-cdc-bench-'));
const manifest = cdcManifest(table, lake);
const entity = rt.entityOf(manifest);
const source = rt.createSource(manifest, process.env);
const ref = rt.entityRefOf(entity, rt.sourceFieldsFor(manifest, entity.name));
const transformer = rt.createTransformer(manifest, entity.name, { sourceColumns: await source.columns(ref) });
const writer = await rt.openLakeWriter({
  lakePath: lake,
  format: 'delta',
  compression: 'zstd',
  writeMode: 'merge',
  schema: transformer.schema,
  appId: manifest.id,
});
const checkpoints = new rt.FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cf-cdc-bench-state-')));

// Latency bookkeeping: the producer records each transaction's commit time; the consumer notes the
// transactions a batch holds and stamps them when the lake commit returns.
const committedAt = new Map();
const seenInBatch = new Set();
const latencies = [];
let landed = 0;
let lastLakeCommit = 0;
const controller = new AbortController();
const observing = {
  apply(rows, extractedAt) {
    for (const row of rows) if (row.txn !== undefined && Number(row.txn) > 0) seenInBatch.add(Number(row.txn));
    return transformer.apply(rows, extractedAt);
  },
};
const consumer = rt
  .runSync({
    connectorId: manifest.id,
    source,
    entity: ref,
    mode: rt.readModeOf(manifest),
    transformer: observing,
    writer,
    checkpoints,
    flushIntervalMs: 1000,
    signal: controller.signal,
    onBatch: () => {
      const now = Date.now();
      lastLakeCommit = now;
      for (const txn of seenInBatch) {
        const at = committedAt.get(txn);
        if (at !== undefined) {
          latencies.push(now - at);
          committedAt.delete(txn);
          landed++;
        }
      }
      seenInBatch.clear();
    },
  })
  .catch((error) => {
    if (!controller.signal.aborted) throw error;
  });

// Wait for the snapshot of the initial 50 000 rows to land before producing changes.
while (lastLakeCommit === 0) await new Promise((r) => setTimeout(r, 100));

const producer = new pg.Client({ connectionString: url });
await producer.connect();
const started = Date.now();
let nextId = 50_001;
let txn = 0;
for (let done = 0; done < changes; done += perTxn) {
  txn++;
  const statements = [];
  for (let i = 0; i < perTxn; i++) {
    const kind = (done + i) % 20;
    if (kind < 10) statements.push(`INSERT INTO ${table} VALUES (${nextId++}, ${txn}, ${i}, ${i}.5, now())`);
    else if (kind < 17)
      statements.push(
        `UPDATE ${table} SET total = total + 1, txn = ${txn}, updated_at = now() WHERE id = ${1 + (((done + i) * 7919) % 50000)}`,
      );
    else statements.push(`DELETE FROM ${table} WHERE id = ${1 + (((done + i) * 104729) % 50000)}`);
  }
  // The txn number lives in the rows an insert/update touches; a transaction of only deletes is not timed.
  await producer.query(`BEGIN; ${statements.join('; ')}; COMMIT`);
  committedAt.set(txn, Date.now());
}
const producedMs = Date.now() - started;
const deadline = Date.now() + 120_000;
while (committedAt.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
controller.abort();
await consumer;
await producer.end();
await writer.close();
await source.close();
const { slot, publication } = rt.replicationNamesOf(manifest);
await rt.dropReplication(url, slot, publication);
await admin.query(`DROP TABLE IF EXISTS ${table}`);
await admin.end();
rmSync(lake, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
const seconds = (lastLakeCommit - started) / 1000;
console.log(
  JSON.stringify({
    changes,
    transactions: txn,
    timedTransactions: landed,
    unlanded: committedAt.size,
    producedSeconds: producedMs / 1000,
    seconds,
    changesPerSecond: changes / seconds,
    p50: pct(50),
    p95: pct(95),
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);

// `npm run bench -- pg`: an `orders` table in PostgreSQL → parquet zstd in a local lake through the
// connector runtime, against the limit: a raw `COPY (SELECT …) TO STDOUT` of the same table measured
// in the same run. Also the CDC path (when --cdc): N mixed changes → Delta merge, changes/s and
// source-commit → lake-commit latency.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectorNodeFlags } from '../packages/runtime/dist/connector/node-flags.js';
import { cdcManifest, ordersManifest } from './manifests.mjs';
import { folderBytes, measure, medians } from './measure.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const url = process.env.PG_URL;
if (!url) {
  console.error(
    'PG_URL is not set: start PostgreSQL with `bash scripts/services.sh start pg` and `source .services/env`',
  );
  process.exit(2);
}

async function main() {
  const rowCounts = opt('rows', '1000000,10000000').split(',').map(Number);
  const repeat = Math.max(1, Number(opt('repeat', '3')));
  const cdcChanges = Number(opt('cdc', '100000'));
  // dlt (PyPI) with its pyarrow backend doing the same load, when its venv installs here.
  const dlt = opt('dlt', 'on') === 'off' ? null : dltSetup();
  const dltChunk = Number(opt('dlt-chunk', '100000'));
  console.log(
    `pg bench: orders → parquet zstd (full refresh), ${rowCounts.map((n) => n.toLocaleString('en')).join(' and ')} rows; median of ${repeat} runs each, highest peak RSS`,
  );
  console.log('path       rows         seconds   rows/s      MB/s (wire)   peak RSS   limit s   ratio');
  for (const rows of rowCounts) {
    await dropIfEmptied(rows);
    measure(fileURLToPath(import.meta.url), 'prepare', rows);
    // Each side runs `--repeat` times (default 3), alternating; the median time counts, and the
    // highest peak RSS (one run of a noisy 2-core machine is not a measurement).
    // The connector runs as its process would (connectorNodeFlags: its Dockerfile, Kubernetes container
    // and local supervisor start node with the flags its manifest asks for).
    const [limit, ours] = medians(fileURLToPath(import.meta.url), ['limit', 'connector'], rows, repeat, {
      connector: connectorNodeFlags(ordersManifest(tableFor(rows), '')),
    });
    const mbps = limit.bytes / 1e6 / ours.seconds;
    console.log(
      `connector  ${rows.toLocaleString('en').padEnd(12)} ${ours.seconds.toFixed(2).padStart(7)}   ${Math.round(
        rows / ours.seconds,
      )
        .toLocaleString('en')
        .padStart(
          9,
        )}   ${mbps.toFixed(1).padStart(8)}      ${(ours.maxRssKb / 1024).toFixed(0).padStart(5)} MB   ${limit.seconds.toFixed(2).padStart(6)}   ${(limit.seconds / ours.seconds).toFixed(2)}`,
    );
    console.log(
      `limit      ${rows.toLocaleString('en').padEnd(12)} ${limit.seconds.toFixed(2).padStart(7)}   ${Math.round(
        rows / limit.seconds,
      )
        .toLocaleString('en')
        .padStart(
          9,
        )}   ${(limit.bytes / 1e6 / limit.seconds).toFixed(1).padStart(8)}      ${(limit.maxRssKb / 1024).toFixed(0).padStart(5)} MB   (COPY (SELECT …) TO STDOUT, bytes counted and dropped)`,
    );
    if (!dlt) continue;
    if (!dlt.python) {
      console.log(`dlt: not available (${dlt.reason})`);
      continue;
    }
    const other = runDlt(dlt.python, rows, dltChunk);
    if (other.error) {
      console.log(`dlt: failed (${other.error})`);
      continue;
    }
    console.log(
      `dlt        ${rows.toLocaleString('en').padEnd(12)} ${other.seconds.toFixed(2).padStart(7)}   ${Math.round(
        rows / other.seconds,
      )
        .toLocaleString('en')
        .padStart(9)}   ${(limit.bytes / 1e6 / other.seconds).toFixed(1).padStart(8)}      ${(other.maxRssKb / 1024)
        .toFixed(0)
        .padStart(5)} MB   ${limit.seconds.toFixed(2).padStart(6)}   ${(limit.seconds / other.seconds).toFixed(2)}   ` +
        `(dlt ${other.dlt}: sql_table backend=pyarrow, chunk_size ${other.chunkSize.toLocaleString('en')} → filesystem parquet ${other.compression}, ` +
        `${other.files} file${other.files === 1 ? '' : 's'}, ${(other.bytes / 1e6).toFixed(1)} MB)`,
    );
    console.log(`ours/dlt ratio: ${(other.seconds / ours.seconds).toFixed(2)} (>1 means we are faster)`);
  }
  if (cdcChanges > 0) {
    const out = spawnSync(
      process.execPath,
      [
        // The CDC bench's connector builds records: Node's defaults (connectorNodeFlags gives none).
        ...connectorNodeFlags(cdcManifest('orders', '')),
        fileURLToPath(new URL('./cdc-bench.mjs', import.meta.url)),
        String(cdcChanges),
        '50',
      ],
      {
        encoding: 'utf8',
        env: process.env,
      },
    );
    if (out.status !== 0) {
      process.stderr.write(out.stderr);
      throw new Error('cdc bench failed');
    }
    const r = JSON.parse(out.stdout.trim().split('\n').pop());
    console.log(
      `\ncdc: ${r.changes.toLocaleString('en')} mixed changes (50% inserts, 35% updates, 15% deletes; ${r.transactions} transactions) → Delta merge, flush interval 1 s`,
    );
    console.log(
      `  ${Math.round(r.changesPerSecond).toLocaleString('en')} changes/s sustained (target ≥ 20,000: ratio ${(r.changesPerSecond / 20000).toFixed(2)}), ` +
        `latency source commit → lake commit p50 ${r.p50} ms, p95 ${r.p95} ms (target < 2000 ms), peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB; ` +
        `the producer alone committed them in ${r.producedSeconds.toFixed(2)} s`,
    );
  }
}

const tableFor = (rows) => `bench_orders_${rows}`;
const COLUMNS = 'id, customer_id, status, total, quantity, paid, created_at, note, region, score';

async function child(what, rows) {
  const { default: pg } = await import('pg');
  const table = tableFor(rows);
  const started = process.hrtime.bigint();
  let bytes = 0;
  if (what === 'prepare') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
    if (!exists.rows[0].ok) {
      await client.query(`CREATE UNLOGGED TABLE ${table} (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
        total numeric(12,2) NOT NULL, quantity int NOT NULL, paid boolean NOT NULL, created_at timestamptz NOT NULL,
        note text, region text, score double precision)`);
      await client.query(`INSERT INTO ${table} SELECT i, i % 50000, CASE WHEN i % 3 = 0 THEN 'shipped' ELSE 'pending' END,
        (i % 100000) / 100.0, i % 7, i % 2 = 0, TIMESTAMPTZ '2025-01-01' + i * INTERVAL '1 second', 'order ' || i,
        CASE WHEN i % 4 = 0 THEN NULL ELSE 'eu-west' END, i / 3.0 FROM generate_series(1, ${rows}) i`);
      await client.query(`VACUUM ANALYZE ${table}`);
    }
    await client.end();
  } else if (what === 'limit') {
    // The fastest COPY reader we have: the runtime's own (rows cut from the protocol's messages, no
    // per-row objects). This process used 0.55–0.81 CPU-s with pg-copy-streams, 0.45–0.51 with it, in
    // the same wall time.
    const { startCopyOut } = await import('../packages/runtime/dist/sources/postgres/copy-out.js');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const copy = startCopyOut(client, `COPY (SELECT ${COLUMNS} FROM ${table}) TO STDOUT`, 10_000);
    for await (const block of copy.blocks()) bytes += block.data.length;
    await client.end();
  } else {
    const rt = await import('../packages/runtime/dist/index.js');
    const lake = mkdtempSync(join(tmpdir(), 'cf-pg-bench-'));
    const manifest = ordersManifest(table, lake);
    const summary = await rt.runConnector({
      manifest,
      once: true,
      stateDir: mkdtempSync(join(tmpdir(), 'cf-pg-bench-state-')),
      logLevel: 'warn',
    });
    if (summary.rowsWritten !== rows) throw new Error(`wrote ${summary.rowsWritten} rows, expected ${rows}`);
    bytes = folderBytes(lake);
    rmSync(lake, { recursive: true, force: true });
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, bytes, maxRssKb: process.resourceUsage().maxRSS }));
}

if (args[0] === '--child') await child(args[1], Number(args[2]));
else await main();

// The bench's Python venv with dlt (scripts/bench-python-env.sh, idempotent; its one progress line
// is passed on when it installs). Returns { python } or { reason } when dlt cannot be had here.
function dltSetup() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const script = join(root, 'scripts', 'bench-python-env.sh');
  const out = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (out.error) return { reason: `could not run scripts/bench-python-env.sh: ${out.error.message}` };
  if (out.status !== 0) {
    const lines = `${out.stderr ?? ''}`.trim().split('\n');
    const last = lines.reverse().find((line) => line.includes('error:')) ?? lines[0] ?? `exit ${out.status}`;
    return { reason: last.replace(/^.*error:\s*/, '').trim() || `scripts/bench-python-env.sh exited ${out.status}` };
  }
  if (out.stderr) process.stderr.write(out.stderr);
  return { python: join(root, '.services', 'bench-venv', 'bin', 'python') };
}

// bench/dlt/dlt_load.py in its own process: { seconds, rows, maxRssKb, dlt, bytes, compression, ... }
// or { error } (the bench goes on without the dlt figure).
function runDlt(python, rows, chunkSize) {
  const out = spawnSync(
    python,
    [
      fileURLToPath(new URL('./dlt/dlt_load.py', import.meta.url)),
      tableFor(rows),
      '--expect-rows',
      String(rows),
      '--chunk-size',
      String(chunkSize),
    ],
    { encoding: 'utf8', env: { ...process.env, RUNTIME__DLTHUB_TELEMETRY: 'false' }, maxBuffer: 1 << 24 },
  );
  if (out.error) return { error: out.error.message };
  if (out.status !== 0) {
    const lines = `${out.stderr ?? ''}`.trim().split('\n').filter(Boolean);
    return { error: lines.pop() ?? `exit ${out.status}` };
  }
  try {
    return JSON.parse(out.stdout.trim().split('\n').pop());
  } catch {
    return { error: `unreadable output: ${out.stdout.trim().slice(-200)}` };
  }
}

// `prepare` keeps an existing bench_orders_<rows>; but the table is UNLOGGED, and PostgreSQL empties
// unlogged tables when it recovers from an unclean stop. An emptied one is dropped so that `prepare`
// fills it again (lock_timeout: a `prepare` still filling it in another process is left alone).
async function dropIfEmptied(rows) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const table = tableFor(rows);
    const exists = await client.query('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
    if (!exists.rows[0].ok) return;
    const some = await client.query(`SELECT EXISTS (SELECT 1 FROM ${table}) AS any`);
    if (some.rows[0].any) return;
    await client.query(`SET lock_timeout = '2s'`);
    await client.query(`DROP TABLE ${table}`).catch(() => {});
  } finally {
    await client.end();
  }
}

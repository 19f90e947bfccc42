// `npm run bench -- lake`: N rows × 10 columns into each lake format through the LakeWriter, against
// the limit: DuckDB's own COPY … TO of the same rows (generated inside DuckDB), measured in this run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

if (args[0] === '--child') {
  await child(args[1], Number(args[2]));
} else {
  const rowCounts = opt('rows', '1000000,5000000').split(',').map(Number);
  const formats = opt('formats', 'parquet,delta,json,avro').split(',');
  console.log(
    `lake bench: ${formats.join(', ')} × ${rowCounts.map((n) => n.toLocaleString('en')).join(' and ')} rows, 10 columns, zstd where the format has it`,
  );
  console.log('format   rows        seconds   rows/s      MB/s    peak RSS   limit s   ratio');
  for (const rows of rowCounts) {
    const limit = run('limit', rows);
    for (const format of formats) {
      const r = run(format, rows);
      const ratio = limit.seconds / r.seconds;
      console.log(
        `${format.padEnd(8)} ${rows.toLocaleString('en').padEnd(11)} ${r.seconds.toFixed(2).padStart(7)}   ${Math.round(
          rows / r.seconds,
        )
          .toLocaleString('en')
          .padStart(
            9,
          )}   ${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(6)}   ${(r.maxRssKb / 1024).toFixed(0).padStart(5)} MB   ${limit.seconds.toFixed(2).padStart(6)}   ${ratio.toFixed(2)}`,
      );
    }
    console.log(
      `limit    ${rows.toLocaleString('en').padEnd(11)} ${limit.seconds.toFixed(2).padStart(7)}   ${Math.round(
        rows / limit.seconds,
      )
        .toLocaleString('en')
        .padStart(
          9,
        )}   ${(limit.bytes / 1e6 / limit.seconds).toFixed(1).padStart(6)}   ${(limit.maxRssKb / 1024).toFixed(0).padStart(5)} MB   (DuckDB COPY … TO parquet zstd)`,
    );
  }
}

function run(format, rows) {
  const out = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', format, String(rows)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (out.status !== 0) {
    process.stderr.write(out.stderr);
    throw new Error(`bench child ${format} ${rows} failed`);
  }
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

function folderBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += folderBytes(full);
    else if (!entry.name.startsWith('_')) total += statSync(full).size;
  }
  return total;
}

function* pages(rows, size = 10_000) {
  const base = Date.UTC(2025, 0, 1) * 1000;
  for (let start = 0; start < rows; start += size) {
    const page = [];
    for (let i = start; i < Math.min(rows, start + size); i++) {
      page.push({
        id: i,
        customer_id: i % 50_000,
        status: i % 3 === 0 ? 'shipped' : 'pending',
        total: (i % 100_000) / 100,
        quantity: i % 7,
        paid: i % 2 === 0,
        created_at: BigInt(base + i * 1_000_000),
        note: `order ${i}`,
        region: i % 4 === 0 ? null : 'eu-west',
        score: i / 3,
      });
    }
    yield page;
  }
}

async function child(format, rows) {
  const root = mkdtempSync(join(tmpdir(), `cf-bench-${format}-`));
  const started = process.hrtime.bigint();
  if (format === 'limit') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await db.connect();
    await c.run(
      `COPY (SELECT i AS id, i % 50000 AS customer_id, CASE WHEN i % 3 = 0 THEN 'shipped' ELSE 'pending' END AS status, ` +
        `(i % 100000) / 100.0 AS total, i % 7 AS quantity, i % 2 = 0 AS paid, make_timestamptz(${Date.UTC(2025, 0, 1) * 1000} + i * 1000000) AS created_at, ` +
        `'order ' || i AS note, CASE WHEN i % 4 = 0 THEN NULL ELSE 'eu-west' END AS region, i / 3 AS score FROM range(${rows}) r(i)) ` +
        `TO '${root}/limit.parquet' (FORMAT parquet, COMPRESSION zstd)`,
    );
  } else {
    const rt = await import('../packages/runtime/dist/index.js');
    const col = (name, type, hint, nullable = false) => rt.columnOf({ name, type, nullable }, hint);
    const schema = {
      columns: [
        col('id', 'number', 'int64'),
        col('customer_id', 'number', 'int64'),
        col('status', 'string'),
        col('total', 'number', 'decimal(12,2)'),
        col('quantity', 'number', 'int64'),
        col('paid', 'boolean'),
        col('created_at', 'datetime'),
        col('note', 'string'),
        col('region', 'string', undefined, true),
        col('score', 'number', 'float64'),
      ],
      partitionBy: [],
      mergeKeys: ['id'],
    };
    const writer = await rt.openLakeWriter({
      lakePath: root,
      format,
      compression:
        format === 'json' || format === 'avro' || format === 'parquet' || format === 'delta' ? 'zstd' : undefined,
      writeMode: 'append',
      schema,
      appId: 'bench',
      workDir: mkdtempSync(join(tmpdir(), 'cf-bench-work-')),
    });
    await writer.writeBatch(1, pages(rows));
    await writer.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = folderBytes(root);
  rmSync(root, { recursive: true, force: true });
  console.log(JSON.stringify({ seconds, bytes, maxRssKb: process.resourceUsage().maxRSS }));
}

// `npm run bench -- lake`: N rows × 10 columns into each lake format through the LakeWriter, against
// the limit: DuckDB's own COPY … TO of the same rows (generated inside DuckDB), measured in this run.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { folderBytes, medians } from './measure.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

if (args[0] === '--child') {
  await child(args[1], Number(args[2]));
} else {
  const rowCounts = opt('rows', '1000000,5000000').split(',').map(Number);
  const repeat = Math.max(1, Number(opt('repeat', '3')));
  const formats = opt('formats', 'parquet,parquet-csv,delta,json,avro').split(',');
  console.log(
    `lake bench: ${formats.join(', ')} × ${rowCounts.map((n) => n.toLocaleString('en')).join(' and ')} rows, 10 columns, zstd where the format has it; median of ${repeat} runs each, highest peak RSS`,
  );
  console.log('format      rows        seconds   rows/s      MB/s    peak RSS   limit s   ratio');
  for (const rows of rowCounts) {
    const limit = medians(fileURLToPath(import.meta.url), ['limit'], rows, repeat)[0];
    for (const format of formats) {
      const r = medians(fileURLToPath(import.meta.url), [format], rows, repeat)[0];
      const ratio = limit.seconds / r.seconds;
      console.log(
        `${format.padEnd(11)} ${rows.toLocaleString('en').padEnd(11)} ${r.seconds.toFixed(2).padStart(7)}   ${Math.round(
          rows / r.seconds,
        )
          .toLocaleString('en')
          .padStart(
            9,
          )}   ${(r.bytes / 1e6 / r.seconds).toFixed(1).padStart(6)}   ${(r.maxRssKb / 1024).toFixed(0).padStart(5)} MB   ${limit.seconds.toFixed(2).padStart(6)}   ${ratio.toFixed(2)}`,
      );
    }
    console.log(
      `limit       ${rows.toLocaleString('en').padEnd(11)} ${limit.seconds.toFixed(2).padStart(7)}   ${Math.round(
        rows / limit.seconds,
      )
        .toLocaleString('en')
        .padStart(
          9,
        )}   ${(limit.bytes / 1e6 / limit.seconds).toFixed(1).padStart(6)}   ${(limit.maxRssKb / 1024).toFixed(0).padStart(5)} MB   (DuckDB COPY … TO parquet zstd)`,
    );
  }
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
  let started = process.hrtime.bigint();
  if (format === 'limit') {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await db.connect();
    await c.run(`COPY (${generateSql(rows)}) TO '${root}/limit.parquet' (FORMAT parquet, COMPRESSION zstd)`);
  } else if (format === 'parquet-csv') {
    // The writer's columnar input (CsvPage, what a PostgreSQL full refresh hands over): the same rows as
    // CSV text, read from a file and cut into pages of whole rows as a PostgreSQL full refresh cuts them. Making the file is not timed; reading it is.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:', { threads: '2' });
    const c = await db.connect();
    const csvFile = join(mkdtempSync(join(tmpdir(), 'cf-bench-csv-')), 'rows.csv');
    await c.run(
      `COPY (SELECT id, customer_id, status, total, quantity, paid, strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S') AS created_at, note, region, score FROM (${generateSql(rows)})) ` +
        `TO '${csvFile}' (FORMAT csv, HEADER false)`,
    );
    c.closeSync();
    db.closeSync();
    started = process.hrtime.bigint();
    const rt = await import('../packages/runtime/dist/index.js');
    const writer = await rt.openLakeWriter({
      lakePath: root,
      format: 'parquet',
      compression: 'zstd',
      writeMode: 'append',
      schema: benchSchema(rt),
      appId: 'bench',
      workDir: mkdtempSync(join(tmpdir(), 'cf-bench-work-')),
    });
    // Cut into pages of whole rows (about 1 MB, as a PostgreSQL full refresh hands over 10 000 rows
    // of COPY's output): these rows hold no quotes, so a row ends at each newline.
    const fields = benchSchema(rt).columns.map((col) => col.name);
    const pages = async function* () {
      let rest = Buffer.alloc(0);
      const page = (data) => {
        let rows = 0;
        let longestRow = 0;
        for (let start = 0, end = data.indexOf(10); end >= 0; start = end + 1, end = data.indexOf(10, start)) {
          rows++;
          longestRow = Math.max(longestRow, end + 1 - start);
        }
        return { kind: 'csv', data, rows, longestRow, fields, constants: {} };
      };
      for await (const chunk of createReadStream(csvFile, { highWaterMark: 1 << 20 })) {
        const data = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
        const cut = data.lastIndexOf(10) + 1;
        rest = data.subarray(cut);
        if (cut > 0) yield page(data.subarray(0, cut));
      }
      if (rest.length > 0) throw new Error(`${csvFile} ends inside a row`);
    };
    await writer.writeBatch(1, pages());
    await writer.close();
    rmSync(csvFile, { force: true });
  } else {
    const rt = await import('../packages/runtime/dist/index.js');
    const schema = benchSchema(rt);
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

/** The rows of the bench as DuckDB generates them (the limit's own source). */
function generateSql(rows) {
  return (
    `SELECT i AS id, i % 50000 AS customer_id, CASE WHEN i % 3 = 0 THEN 'shipped' ELSE 'pending' END AS status, ` +
    `(i % 100000) / 100.0 AS total, i % 7 AS quantity, i % 2 = 0 AS paid, make_timestamptz(${Date.UTC(2025, 0, 1) * 1000} + i * 1000000) AS created_at, ` +
    `'order ' || i AS note, CASE WHEN i % 4 = 0 THEN NULL ELSE 'eu-west' END AS region, i / 3 AS score FROM range(${rows}) r(i)`
  );
}

/** The lake table of the bench: 10 columns. */
function benchSchema(rt) {
  const col = (name, type, hint, nullable = false) => rt.columnOf({ name, type, nullable }, hint);
  return {
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
}

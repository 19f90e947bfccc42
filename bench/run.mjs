#!/usr/bin/env node
// Benchmarks: `npm run bench -- <suite> [options]`. Each measurement runs in its own process so its
// peak RSS is its own; every figure is printed next to the limit measured in the same run.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = { lake: 'lake-bench.mjs', pg: 'pg-bench.mjs' };
const [suite, ...rest] = process.argv.slice(2);
if (!suite || suite === '--help' || !suites[suite]) {
  console.log(
    `usage: npm run bench -- <suite> [options]\n\nsuites:\n  lake   rows into each lake format vs DuckDB's own COPY (options: --rows N[,N...] --formats parquet,parquet-csv,delta,json,avro --repeat N; parquet-csv feeds the writer CSV pages)\n  pg     PostgreSQL orders → parquet zstd vs raw COPY TO STDOUT, then CDC → Delta merge (options: --rows N[,N...] --cdc N --repeat N); needs PG_URL. Each figure is the median of --repeat runs (default 3)`,
  );
  process.exit(suite && suite !== '--help' ? 2 : 0);
}
const result = spawnSync(process.execPath, [join(here, suites[suite]), ...rest], { stdio: 'inherit' });
process.exit(result.status ?? 1);

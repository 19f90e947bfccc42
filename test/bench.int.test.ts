import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The benchmarks run on small tables, so a change that breaks one (a module it imports, a page shape)
// fails the suite instead of the next `npm run bench`. The figures themselves are not checked here:
// performance lives in the benchmarks, never in timed tests.

const run = promisify(execFile);
const bench = (name: string) => fileURLToPath(new URL(`../bench/${name}`, import.meta.url));

describe('benchmarks on small tables', () => {
  it('lake: every format and the limit', async () => {
    const { stdout } = await run(process.execPath, [bench('lake-bench.mjs'), '--rows', '20000', '--repeat', '1'], {
      env: process.env,
      maxBuffer: 1 << 24,
    });
    for (const format of ['parquet', 'parquet-csv', 'delta', 'json', 'avro', 'limit']) {
      expect(stdout).toMatch(new RegExp(`^${format}\\s+20,000\\s+\\d`, 'm'));
    }
  });

  it('pg: full refresh against the limit, and CDC', async () => {
    const { stdout } = await run(
      process.execPath,
      [bench('pg-bench.mjs'), '--rows', '20000', '--repeat', '1', '--cdc', '2000', '--dlt', 'off'],
      { env: process.env, maxBuffer: 1 << 24 },
    );
    expect(stdout).toMatch(/^connector\s+20,000\s+\d/m);
    expect(stdout).toMatch(/^limit\s+20,000\s+\d/m);
    expect(stdout).toMatch(/cdc: 2,000 mixed changes/);
  });
});

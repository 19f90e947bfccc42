import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openEngine } from '../../src/engine/duckdb-engine.js';

it('opens DuckDB in UTC, without caching the files it reads (spools are read once)', async () => {
  const engine = await openEngine({ tempDirectory: mkdtempSync(join(tmpdir(), 'cf-engine-')) });
  try {
    const read = async (name: string) =>
      (await engine.connection.runAndReadAll(`SELECT current_setting('${name}')::VARCHAR AS v`)).getRowObjectsJS()[0]!
        .v;
    expect(await read('TimeZone')).toBe('UTC');
    expect(await read('enable_external_file_cache')).toBe('false');
    expect(await read('preserve_insertion_order')).toBe('false');
  } finally {
    engine.close();
  }
});

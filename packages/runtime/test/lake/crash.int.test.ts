import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file/file-store.js';
import { PlainLog } from '../../src/lake/plain/plain-log.js';
import { DeltaLog } from '../../src/lake/formats/delta/delta-log.js';
import { decodeDeltaPath } from '../../src/lake/formats/delta/delta-actions.js';
import { readLake } from './readers.js';

// Kill the writer process at random points during a run of many batches, rerun until it finishes,
// and compare with an uninterrupted run: same rows, no duplicates, no leftover files.

const writerScript = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
const BATCHES = 12;
const ROWS = 1500;

function runWriter(
  path: string,
  format: string,
  mode: string,
  killAfterMs?: number,
): Promise<{ code: number | null; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writerScript, path, format, mode, String(BATCHES), String(ROWS)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => ((killed = true), child.kill('SIGKILL')), killAfterMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      if (timer) clearTimeout(timer);
      if (!killed && code !== 0) reject(new Error(`writer failed (${code}): ${stderr}`));
      else resolve({ code, killed });
    });
  });
}

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

/** Data files on disk that the table's log does not name (live, or tombstoned for Delta). */
async function leftovers(root: string, format: string): Promise<string[]> {
  const store = new FileStore(root);
  let named: Set<string>;
  if (format === 'delta') {
    const snapshot = await (
      await DeltaLog.open(store, { tempDirectory: mkdtempSync(join(tmpdir(), 'cf-dl-')) })
    ).snapshot();
    named = new Set([...snapshot.files.keys(), ...snapshot.tombstones.keys()].map(decodeDeltaPath));
  } else {
    named = new Set((await new PlainLog(store).snapshot()).files.keys());
  }
  return filesUnder(root).filter((f) => !f.startsWith('_delta_log/') && !f.startsWith('_cf_log/') && !named.has(f));
}

describe.each([
  ['delta', 'merge'],
  ['parquet', 'append'],
  ['parquet', 'merge'],
])('%s %s writer killed at random points', (format, mode) => {
  it('ends with the same table as an uninterrupted run', async () => {
    const clean = mkdtempSync(join(tmpdir(), 'cf-clean-'));
    const started = Date.now();
    await runWriter(clean, format, mode);
    const cleanMs = Date.now() - started;
    const crashed = mkdtempSync(join(tmpdir(), 'cf-crash-'));
    let kills = 0;
    // Kill points spread over the run (start-up included); each rerun resumes where the last one died.
    for (let attempt = 0; attempt < 40; attempt++) {
      const delay = attempt === 0 ? cleanMs / 2 : 50 + Math.random() * cleanMs * 0.6;
      const { killed } = await runWriter(crashed, format, mode, Math.round(delay));
      if (!killed) break;
      kills++;
    }
    // Finish for sure, however the random kills fell.
    await runWriter(crashed, format, mode);
    expect(kills).toBeGreaterThan(0);
    const want = await readLake(format, clean);
    const got = await readLake(format, crashed);
    expect(got.rows.length).toBe(want.rows.length);
    expect(got.rows).toEqual(want.rows);
    const ids = got.rows.map((r) => r.id);
    if (mode === 'merge') expect(new Set(ids).size).toBe(ids.length);
    expect(await leftovers(crashed, format)).toEqual([]);
    expect(filesUnder(crashed).filter((f) => f.includes('.tmp-') || f.startsWith('_cf_staging/'))).toEqual([]);
  });
});

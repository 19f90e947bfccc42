// What the benches share: each measurement in a child process of its own (so its peak RSS is its
// own), repeated and interleaved, the median time and the highest peak RSS kept.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Runs `<script> --child <step> <rows>` once (with `nodeFlags` for node); its last stdout line is its
 * JSON result.
 */
export function measure(script, step, rows, nodeFlags = []) {
  const out = spawnSync(process.execPath, [...nodeFlags, script, '--child', step, String(rows)], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 1 << 24,
  });
  if (out.status !== 0) {
    process.stderr.write(out.stderr);
    throw new Error(`bench step ${step} (${rows} rows) failed`);
  }
  return JSON.parse(out.stdout.trim().split('\n').pop());
}

/**
 * Each step `repeat` times, interleaved: per step the median-time result, with the highest peak RSS.
 * `nodeFlags` gives node flags by step.
 */
export function medians(script, steps, rows, repeat, nodeFlags = {}) {
  const results = steps.map(() => []);
  for (let i = 0; i < repeat; i++)
    steps.forEach((step, s) => results[s].push(measure(script, step, rows, nodeFlags[step])));
  return results.map((list) => {
    const sorted = [...list].sort((a, b) => a.seconds - b.seconds);
    const middle = sorted[Math.floor(sorted.length / 2)];
    return { ...middle, maxRssKb: Math.max(...list.map((r) => r.maxRssKb)) };
  });
}

/** Bytes of a table's data files (folders and files starting with `_` — logs, quarantine — left out). */
export function folderBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('_')) continue;
    const full = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(full) : statSync(full).size;
  }
  return total;
}

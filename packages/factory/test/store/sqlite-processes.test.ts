import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AuditLog, openStateStore } from '@connector-factory/factory';

// The children run the built store (npm test builds first), as separate processes would in production:
// a CLI and a long-running supervisor sharing one SQLite file.
const built = fileURLToPath(new URL('../../dist/store/open-state-store.js', import.meta.url));

// Each child opens the store (migrating it, concurrently with the others), says "ready", waits for the
// go file, so that all of them append at the same moment, then appends its receipts.
const CHILD = `
import { existsSync } from 'node:fs';
const [, url, file, go, worker, count] = process.argv;
const { openStateStore } = await import(url);
const store = await openStateStore(file);
process.stdout.write('ready\\n');
while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 5));
for (let i = 0; i < Number(count); i++) {
  await store.audit.append({
    action: 'generate', agent: 'codegen', actor: worker, resource: 'connector_' + worker, riskLevel: 'low',
    inputs: {}, outputs: {}, result: 'success', details: { i },
  });
  // A pause between appends, as real agents have: the others get the lock in between.
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await store.close();
`;

interface Child {
  readonly ready: Promise<void>;
  readonly done: Promise<{ code: number | null; stderr: string }>;
}

function child(file: string, go: string, worker: string, count: number): Child {
  const proc = spawn(
    process.execPath,
    ['--input-type=module', '-e', CHILD, pathToFileURL(built).href, file, go, worker, String(count)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
  const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stderr }));
  });
  return { ready, done };
}

describe('one SQLite state store, several processes', () => {
  it('migrates once and chains the receipts of concurrent appenders into one valid log', async () => {
    expect(existsSync(built), `${built} is missing: run \`npm run build\` first`).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'cf-procs-'));
    const file = join(dir, 'state.db');
    const go = join(dir, 'go');
    const workers = ['w1', 'w2', 'w3', 'w4'];
    const children = workers.map((worker) => child(file, go, worker, 30));
    // A child that failed never says ready: wait for whichever comes first.
    await Promise.race([Promise.all(children.map((c) => c.ready)), Promise.all(children.map((c) => c.done))]);
    writeFileSync(go, '');
    const results = await Promise.all(children.map((c) => c.done));
    for (const result of results) expect(result).toEqual({ code: 0, stderr: '' });

    const store = await openStateStore(file);
    try {
      const receipts = await store.audit.all();
      expect(receipts.map((r) => r.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      for (const worker of workers) {
        const own = receipts.filter((r) => r.actor === worker).map((r) => r.details?.['i']);
        expect(own).toEqual(Array.from({ length: 30 }, (_, i) => i));
      }
      // Interleaved, not one process after the other.
      const switches = receipts.filter((r, i) => i > 0 && r.actor !== receipts[i - 1]!.actor).length;
      expect(switches).toBeGreaterThan(3);
      expect((await new AuditLog(store).verify()).problems).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);
});

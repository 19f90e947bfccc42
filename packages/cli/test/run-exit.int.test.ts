import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `connector-factory run` and a generated connector's entry exit 6 ("source") when the source refuses
// the credentials, with one line naming the cause and never the password.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');
const runtime = join(root, 'packages/runtime/dist/index.js');
const pgUrl = process.env.PG_URL;

function wrongPasswordUrl(): { url: string; password: string } {
  const url = new URL(pgUrl!);
  const password = `${decodeURIComponent(url.password)}-Wr0ng`;
  url.password = encodeURIComponent(password);
  return { url: url.toString(), password };
}

function manifestFile(): string {
  const work = mkdtempSync(join(tmpdir(), 'cf-run-exit-'));
  const manifest = {
    id: 'connector_postgres_run_exit_v1',
    name: 'run exit',
    version: '1.0.0',
    source: {
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${RUN_EXIT_PG_URL}',
      auth: { method: 'basic', config: {} },
    },
    schema: {
      entities: [{ name: 'orders', primaryKey: ['id'], fields: [{ name: 'id', type: 'number', nullable: false }] }],
      updateStrategy: 'full_refresh',
    },
    destination: {
      lakePath: join(work, 'lake'),
      format: 'parquet',
      compression: 'snappy',
      partitionBy: [],
      writeMode: 'overwrite',
      mergeKeys: [],
    },
    schedule: { type: 'cron', expression: '0 0 * * *' },
    governance: {
      owner: 'test',
      classification: 'internal',
      retentionDays: 7,
      piiHandling: 'mask',
      contract: { version: '1.0.0', slo: { freshnessMinutes: 60, availabilityPercent: 99, errorRatePercent: 1 } },
    },
  };
  const file = join(work, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest));
  return file;
}

describe.skipIf(!pgUrl)('a source that refuses the credentials', () => {
  it('`connector-factory run` exits 6 with one line and no password', () => {
    const { url, password } = wrongPasswordUrl();
    const home = mkdtempSync(join(tmpdir(), 'cf-run-exit-home-'));
    const r = spawnSync(process.execPath, [bin, 'run', manifestFile(), '--once'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, CONNECTOR_FACTORY_HOME: home, RUN_EXIT_PG_URL: url },
    });
    expect(r.status, r.stderr).toBe(6);
    const errorLines = r.stderr.split('\n').filter((line) => line.startsWith('error: '));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain('28P01');
    expect(r.stderr + r.stdout).not.toContain(password);
  });

  it("a generated connector's entry (connectorMain) exits 6", () => {
    const { url, password } = wrongPasswordUrl();
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-run-exit-state-'));
    const script = `import(${JSON.stringify(runtime)}).then((m) => m.connectorMain(['--once', '--health-port', '0', '--state-dir', ${JSON.stringify(stateDir)}], ${JSON.stringify(manifestFile())})).then((code) => process.exit(code))`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, RUN_EXIT_PG_URL: url },
    });
    expect(r.status, r.stderr).toBe(6);
    const errorLines = r.stderr.split('\n').filter((line) => line.startsWith('error: '));
    expect(errorLines).toEqual([expect.stringContaining('28P01')]);
    expect(r.stderr + r.stdout).not.toContain(password);
  });
});

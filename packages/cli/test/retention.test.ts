import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStateStore } from '@connector-factory/factory';
import { DAY, writeOrdersLake, writeRetentionManifest } from '../../factory/test/support/retention-lake.js';
import { cli } from './support/in-process.js';

// `connector-factory retention` on a real Delta table in a local folder, in-process.

let dir = '';
let lake = '';
let manifestFile = '';
let common: string[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-retention-cli-'));
  lake = join(dir, 'lake');
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'defaultRole: viewer\nroles:\n  alice: operator\n');
  vi.stubEnv('CONNECTOR_FACTORY_HOME', dir);
  vi.stubEnv('CONNECTOR_FACTORY_ACTOR', '');
  common = ['--state', join(dir, 'state.db'), '--policy', policy];
  manifestFile = join(dir, 'manifest.json');
  writeRetentionManifest(manifestFile, lake);
  const now = Date.now();
  const at = (days: number) => new Date(now - days * DAY).toISOString();
  await writeOrdersLake(
    lake,
    [
      [
        { id: 1, created_at: at(100), _extracted_at: at(40) },
        { id: 2, created_at: at(100), _extracted_at: at(31) },
      ],
      [{ id: 3, created_at: at(100), _extracted_at: at(2) }],
    ],
    ['created_at'],
  );
});
afterEach(() => {
  vi.unstubAllEnvs();
});

const logVersions = () => readdirSync(join(lake, '_delta_log')).filter((f) => f.endsWith('.json'));

async function receipts() {
  const store = await openStateStore(join(dir, 'state.db'));
  try {
    return (await store.audit.all()).filter((r) => r.action === 'enforce_retention');
  } finally {
    await store.close();
  }
}

describe('connector-factory retention', () => {
  it('--help names the dry run and the JSON output', async () => {
    const { code, stdout } = await cli('retention', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('--dry-run');
    expect(stdout).toContain('--json');
    expect(stdout).toContain('retentionDays');
  });

  it('--dry-run reports what would go and changes nothing', async () => {
    const before = logVersions();
    const { code, stdout, stderr } = await cli('retention', manifestFile, '--dry-run', '--json', ...common);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as {
      dryRun: boolean;
      connectors: Array<{ connectorId: string; tables: Array<Record<string, unknown>> }>;
    };
    expect(out.dryRun).toBe(true);
    expect(out.connectors[0]!.connectorId).toBe('connector_postgres_orders_v1');
    expect(out.connectors[0]!.tables[0]).toMatchObject({
      dateColumn: '_extracted_at',
      rowsExpired: 2,
      committed: false,
      filesRemoved: [expect.objectContaining({ rowsExpired: 2, rowsKept: 0 })],
    });
    expect(logVersions()).toEqual(before);
    expect(await receipts()).toEqual([]);

    const text = await cli('retention', manifestFile, '--dry-run', ...common);
    expect(text.stdout).toContain('would remove 2 rows');
  });

  it('enforces as an operator and writes an audit receipt; a viewer is refused', async () => {
    vi.stubEnv('CONNECTOR_FACTORY_ACTOR', 'bob');
    const refused = await cli('retention', manifestFile, ...common);
    expect(refused.code).toBe(4);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);

    vi.stubEnv('CONNECTOR_FACTORY_ACTOR', 'alice');
    const before = logVersions().length;
    const { code, stdout, stderr } = await cli('retention', manifestFile, ...common);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('removed 2 rows in version 2');
    expect(logVersions()).toHaveLength(before + 1);
    const [receipt, ...more] = await receipts();
    expect(more).toEqual([]);
    expect(receipt).toMatchObject({
      agent: 'cli',
      actor: 'alice',
      resource: 'connector_postgres_orders_v1',
      result: 'success',
      riskLevel: 'medium',
      details: { retentionDays: 30, rowsExpired: 2 },
    });
    expect((receipt!.details as { tables: Array<Record<string, unknown>> }).tables[0]).toMatchObject({
      committed: true,
      tableVersion: 2,
      filesRemoved: 1,
    });
  });
});

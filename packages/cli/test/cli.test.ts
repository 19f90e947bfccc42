import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// These tests spawn the real, built binary (npm test builds it first).
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');
const work = mkdtempSync(join(tmpdir(), 'cf-cli-'));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeManifest(name: string, change: (m: Record<string, any>) => void): string {
  const manifest = JSON.parse(readFileSync(join(root, 'examples/postgres-orders-cdc.json'), 'utf8'));
  change(manifest);
  const file = join(work, name);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return file;
}

describe('connector-factory validate', () => {
  it('exits 0 for each example', () => {
    for (const example of ['examples/salesforce-opportunity.json', 'examples/postgres-orders-cdc.json']) {
      const { code, stdout, stderr } = cli('validate', example);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^ok: examples\/.*\(connector_\w+_v1 1\.0\.0\)\n$/);
    }
  });

  it('rejects a literal password with one line naming source.connectionString', () => {
    const file = writeManifest(
      'hunter2.json',
      (m) => (m.source.connectionString = 'postgresql://app:hunter2@db/orders'),
    );
    const { code, stdout, stderr } = cli('validate', file);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('source.connectionString');
    expect(lines[0]).toContain('use an env-var reference');
    expect(lines[0]).toMatch(/hunter2\.json:\d+:\d+: error:/);
    expect(stderr).not.toContain('hunter2@');
    expect(stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('reports all three mistakes of a manifest with their paths', () => {
    const file = writeManifest('three.json', (m) => {
      m.destination.format = 'parket';
      m.schedule = { type: 'interval' };
      m.destination.mergeKeys = ['order_id'];
    });
    const { code, stderr } = cli('validate', file);
    expect(code).toBe(1);
    // One line each, in the order they appear in the file.
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/destination\.format: .*did you mean "parquet"/);
    expect(lines[1]).toMatch(/destination\.mergeKeys\[0\]: merge key "order_id" is not a field/);
    expect(lines[2]).toMatch(/schedule\.intervalSeconds: an interval schedule needs intervalSeconds/);
  });

  it('gives line and column for malformed JSON and YAML', () => {
    const json = join(work, 'broken.json');
    writeFileSync(json, '{\n  "id": "connector_postgres_orders_v1",\n  "name": "x",,\n}\n');
    const a = cli('validate', json);
    expect(a.code).toBe(1);
    expect(a.stderr.trim()).toMatch(/broken\.json:3:15: error: invalid JSON: /);
    const yaml = join(work, 'broken.yaml');
    writeFileSync(yaml, 'id: connector_postgres_orders_v1\nsource:\n  type: jdbc\n   provider: postgres\n');
    const b = cli('validate', yaml);
    expect(b.code).toBe(1);
    expect(b.stderr.trim()).toMatch(/broken\.yaml:\d+:\d+: error: invalid YAML: /);
  });

  it('prints a structured result with --json', () => {
    const file = writeManifest('json-out.json', (m) => (m.schedule.type = 'cronn'));
    const { code, stdout } = cli('validate', '--json', file, 'examples/postgres-orders-cdc.json');
    expect(code).toBe(1);
    const results = JSON.parse(stdout);
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ valid: false });
    expect(results[0].problems[0]).toMatchObject({
      pathText: 'schedule.type',
      suggestion: 'cron',
      line: expect.any(Number),
    });
    expect(results[1]).toMatchObject({ valid: true, id: 'connector_postgres_orders_v1' });
  });

  it('fails on warnings only with --strict', () => {
    const file = writeManifest('warn.json', (m) => {
      m.destination.writeMode = 'append';
      delete m.destination.mergeKeys;
    });
    const loose = cli('validate', file);
    expect(loose.code).toBe(0);
    expect(loose.stderr).toMatch(/warning: destination\.writeMode: cdc with writeMode append/);
    expect(cli('validate', '--strict', file).code).toBe(1);
  });

  it('exits 1 for a missing file, without a stack trace', () => {
    const { code, stderr } = cli('validate', 'nope.json');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('error: nope.json: cannot read manifest: no such file');
  });
});

describe('connector-factory providers', () => {
  it('lists providers as a table and as JSON', () => {
    const table = cli('providers');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^PROVIDER\s+TYPE\s+AUTH\s+ALIASES/);
    expect(table.stdout).toMatch(/salesforce\s+rest_api\s+oauth2\s+sfdc/);
    const json = JSON.parse(cli('providers', 'list', '--json').stdout);
    expect(json.map((p: { provider: string }) => p.provider)).toContain('postgres');
    const jdbc = JSON.parse(cli('providers', 'list', '--type', 'jdbc', '--json').stdout);
    expect(jdbc.map((p: { provider: string }) => p.provider).sort()).toEqual(['mysql', 'postgres']);
  });

  it('shows one provider by name or alias', () => {
    const shown = cli('providers', 'show', 'pg');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^PostgreSQL \(postgres\)/);
    const json = JSON.parse(cli('providers', 'show', 'sfdc', '--json').stdout);
    expect(json.rateLimit).toMatchObject({ requestsPerSecond: 25, burstLimit: 100 });
  });

  it('exits 1 with a suggestion for an unknown provider', () => {
    const { code, stderr } = cli('providers', 'show', 'salesfroce');
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      'error: unknown provider "salesfroce"; did you mean "salesforce"? (see: connector-factory providers list)',
    );
  });

  it('names the broken registry file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-reg-'));
    writeFileSync(
      join(dir, 'postgres.yaml'),
      readFileSync(join(root, 'providers/postgres.yaml'), 'utf8').replace(/^type: jdbc$/m, 'type: sql'),
    );
    const result = spawnSync(process.execPath, [bin, 'providers'], {
      encoding: 'utf8',
      env: { ...process.env, CONNECTOR_FACTORY_PROVIDERS: dir },
    });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/postgres\.yaml:\d+:\d+: type: /);
  });
});

describe('usage', () => {
  it('has --help on every command', () => {
    for (const args of [[], ['validate'], ['providers'], ['providers', 'list'], ['providers', 'show']]) {
      const { code, stdout } = cli(...args, '--help');
      expect(code, args.join(' ')).toBe(0);
      expect(stdout).toMatch(/^Usage: connector-factory/);
    }
  });

  it('exits 2 for usage errors', () => {
    expect(cli().code).toBe(2);
    expect(cli('bogus').code).toBe(2);
    expect(cli('validate').code).toBe(2);
    expect(cli('validate', '--nope', 'x.json').code).toBe(2);
    expect(cli('providers', 'show').code).toBe(2);
  });

  it('prints its version', () => {
    expect(cli('--version').stdout.trim()).toBe('0.1.0');
  });
});

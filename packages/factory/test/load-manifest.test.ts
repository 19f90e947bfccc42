import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FactoryError, loadManifestFile, validateManifestText } from '../src/index.js';

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));

describe('loadManifestFile', () => {
  it('accepts every example in examples/', async () => {
    const files = readdirSync(examplesDir).filter((f) => /\.(json|ya?ml)$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      const result = await loadManifestFile(`${examplesDir}${file}`);
      expect(result.problems, file).toEqual([]);
      expect(result.ok, file).toBe(true);
    }
  });

  it('throws not_found for a missing file', async () => {
    await expect(loadManifestFile('/nonexistent/manifest.json')).rejects.toThrow(FactoryError);
  });
});

describe('validateManifestText', () => {
  it('gives the line and column of a JSON syntax error', () => {
    const result = validateManifestText('{\n  "id": "x",\n  "name": \n}\n', 'm.json');
    expect(result.ok).toBe(false);
    expect(result.problems[0]).toMatchObject({ code: 'syntax_error', line: 4, column: 1 });
  });

  it('gives the line and column of a YAML syntax error', () => {
    const result = validateManifestText('id: x\nname: [a, b\nversion: 1.0.0\n', 'm.yaml');
    expect(result.problems[0]).toMatchObject({ code: 'syntax_error' });
    expect(result.problems[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('points each problem at the line of its key', () => {
    const text = JSON.stringify(
      { id: 'connector_postgres_orders_v1', name: 'x', version: 'one', schedule: { type: 'cronn' } },
      null,
      2,
    );
    const result = validateManifestText(text, 'm.json');
    const version = result.problems.find((p) => p.path.join('.') === 'version');
    const scheduleType = result.problems.find((p) => p.path.join('.') === 'schedule.type');
    expect(version).toMatchObject({ line: 4, column: 3 });
    expect(scheduleType).toMatchObject({ line: 6, column: 5 });
    // A missing section points at the object that lacks it.
    expect(result.problems.find((p) => p.path.join('.') === 'governance')).toMatchObject({ line: 1, column: 1 });
  });

  it('reads YAML manifests too', () => {
    const yaml = 'id: connector_postgres_orders_v1\nname: Orders\nversion: 1.0.0\n';
    const result = validateManifestText(yaml, 'orders.yaml');
    expect(result.problems.some((p) => p.code === 'syntax_error')).toBe(false);
    expect(result.problems.find((p) => p.path.join('.') === 'source')).toBeDefined();
  });
});

import { describe, expect, it } from 'vitest';
import { unsupportedFieldNames, validateManifest } from '../src/index.js';
import { example } from './fixtures.js';

const HOSTILE = ['__proto__', 'constructor', 'toString', '"quoted"', '`bt`', '*/', 'new\nline', 'select', 'order'];

function withFields(names: readonly string[], strategy: 'cdc' | 'full_refresh' = 'cdc'): Record<string, unknown> {
  const manifest = example('postgres-orders-cdc');
  manifest.schema.entities[0].fields.push(...names.map((name) => ({ name, type: 'string', nullable: true })));
  if (strategy === 'full_refresh') {
    manifest.schema.updateStrategy = 'full_refresh';
    delete manifest.schema.cdcConfig;
    manifest.destination.writeMode = 'overwrite';
  }
  return manifest;
}

describe('field names a lake table cannot hold', () => {
  it('accepts every name a database allows, __proto__ and reserved words included', () => {
    const result = validateManifest(withFields(HOSTILE));
    expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(result.ok).toBe(true);
    expect(unsupportedFieldNames(HOSTILE, true)).toEqual([]);
  });

  it('refuses a runtime column and a case-only twin, with the path of each', () => {
    const result = validateManifest(withFields(['_extracted_at', 'ID', '_OP']));
    expect(result.ok).toBe(false);
    const problems = result.problems.filter((p) => p.code === 'unsupported_field_name');
    expect(problems.map((p) => p.path)).toEqual([
      ['schema', 'entities', 0, 'fields', 4, 'name'],
      ['schema', 'entities', 0, 'fields', 5, 'name'],
      ['schema', 'entities', 0, 'fields', 6, 'name'],
    ]);
    expect(problems[0]!.message).toContain('"_extracted_at" is the name of a column the connector adds');
    expect(problems[1]!.message).toContain('"ID" and "id" differ only in case');
    expect(problems[2]!.message).toContain('(_op)');
  });

  it('leaves _op to the source when the connector is not cdc', () => {
    expect(unsupportedFieldNames(['id', '_op'], false)).toEqual([]);
    const result = validateManifest(withFields(['_op'], 'full_refresh'));
    expect(result.problems.filter((p) => p.code === 'unsupported_field_name')).toEqual([]);
  });
});

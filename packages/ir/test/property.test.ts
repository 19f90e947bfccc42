import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateManifest, type ValidationResult } from '../src/index.js';
import { example } from './fixtures.js';

function isStructured(result: ValidationResult): boolean {
  return (
    typeof result.ok === 'boolean' &&
    Array.isArray(result.problems) &&
    result.problems.every(
      (p) => typeof p.code === 'string' && typeof p.message === 'string' && Array.isArray(p.path),
    ) &&
    (result.ok ? result.manifest !== undefined : result.problems.some((p) => p.severity === 'error'))
  );
}

/** Every path to a value inside a document. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function mutate(doc: any, path: (string | number)[], action: 'delete' | 'set', replacement: unknown): any {
  if (path.length === 0) return action === 'set' ? replacement : {};
  let parent = doc;
  for (const part of path.slice(0, -1)) parent = parent[part];
  const last = path[path.length - 1]!;
  if (action === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = replacement;
  return doc;
}

describe('validateManifest on arbitrary input', () => {
  it('returns a structured result for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => isStructured(validateManifest(value))),
      { numRuns: 500 },
    );
  });

  it('returns a structured result for any value at all, including odd objects', () => {
    fc.assert(
      fc.property(fc.anything({ withMap: true, withSet: true, withBigInt: true, withDate: true }), (value) =>
        isStructured(validateManifest(value)),
      ),
      { numRuns: 300 },
    );
  });

  it('returns a structured result for mutated example manifests, and reports the mutation', () => {
    const base = { pg: example('postgres-orders-cdc'), sf: example('salesforce-opportunity') };
    const arbitrary = fc
      .constantFrom('pg', 'sf')
      .chain((which) =>
        fc.tuple(
          fc.constant(which),
          fc.constantFrom(...paths(base[which as 'pg' | 'sf'])),
          fc.constantFrom('delete', 'set'),
          fc.oneof(fc.jsonValue(), fc.string(), fc.constantFrom('', null, -1, 'cronn', 'parket', '${X}')),
        ),
      );
    fc.assert(
      fc.property(arbitrary, ([which, path, action, replacement]) => {
        const doc = mutate(structuredClone(base[which as 'pg' | 'sf']), path, action as 'delete' | 'set', replacement);
        const result = validateManifest(doc);
        expect(isStructured(result)).toBe(true);
        // A valid result must carry a manifest equal to the input (nothing silently dropped or coerced).
        if (result.ok) expect(result.manifest).toEqual(doc);
      }),
      { numRuns: 1000 },
    );
  });
});

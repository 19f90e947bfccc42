import { describe, expect, it } from 'vitest';
import { validateManifest, type ValidationResult } from '../src/index.js';
import { example } from './fixtures.js';

const PASSWORD = 'hunter2pass';
const URL_WITH_PASSWORD = `postgresql://app:${PASSWORD}@db.internal:5432/orders`;

function expectAnswer(result: ValidationResult): void {
  expect(typeof result.ok).toBe('boolean');
  for (const problem of result.problems) {
    expect(problem.path.length, JSON.stringify(problem)).toBeGreaterThan(0);
    expect(problem.message, JSON.stringify(problem)).not.toBe('');
  }
}

function validateWith(change: (m: Record<string, any>) => void, name = 'postgres-orders-cdc' as const) {
  const m = example(name);
  change(m);
  const result = validateManifest(m);
  expectAnswer(result);
  return result;
}

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'prototype'];

describe('validateManifest with prototype names as values', () => {
  it('answers "format": "constructor" with an enum problem, not a TypeError', () => {
    const result = validateWith((m) => (m.destination.format = 'constructor'));
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(
      expect.objectContaining({ code: 'invalid_enum', path: ['destination', 'format'] }),
    );
  });

  it('answers "method": "constructor" with an enum problem, not a TypeError', () => {
    const result = validateWith((m) => (m.source.auth.method = 'constructor'));
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(
      expect.objectContaining({ code: 'invalid_enum', path: ['source', 'auth', 'method'] }),
    );
    expect(result.problems.filter((p) => p.code === 'missing_field' && p.path[2] === 'config')).toEqual([]);
  });

  it('answers every prototype name in every enum and name position', () => {
    // Enumerations and names that must match something: a prototype name is never valid there.
    const invalid: ((m: Record<string, any>, v: string) => void)[] = [
      (m, v) => (m.destination.format = v),
      (m, v) => (m.destination.compression = v),
      (m, v) => (m.destination.writeMode = v),
      (m, v) => (m.source.auth.method = v),
      (m, v) => (m.source.type = v),
      (m, v) => (m.source.provider = v),
      (m, v) => (m.schedule.type = v),
      (m, v) => (m.schema.updateStrategy = v),
      (m, v) => (m.schema.cdcConfig.cursorType = v),
      (m, v) => (m.schema.entities[0].fields[0].type = v),
      (m, v) => (m.schema.entities[0].fields[0].name = v),
      (m, v) => (m.schema.entities[0].primaryKey = [v]),
      (m, v) => (m.destination.mergeKeys = [v]),
      (m, v) => (m.destination.partitionBy = [v]),
      (m, v) => ((m.schema.updateStrategy = 'incremental'), (m.schema.incrementalKey = v)),
      (m, v) => ((m.schema.cdcConfig.cursorType = 'timestamp'), (m.schema.cdcConfig.cursorField = v)),
      (m, v) =>
        (m.schema.relationships = [{ from: { entity: v, field: v }, to: { entity: 'orders', field: v }, type: v }]),
      (m, v) => (m.governance.classification = v),
      (m, v) => (m.governance.piiHandling = v),
      (m, v) => (m.id = v),
      (m, v) => (m.version = v),
    ];
    // Free names: a table may be called "constructor".
    const free: ((m: Record<string, any>, v: string) => void)[] = [
      (m, v) => (m.schema.entities[0].name = v),
      (m, v) => (m.name = v),
      (m, v) => (m.governance.owner = v),
      (m, v) => (m.schema.entities[0].query = v),
    ];
    for (const value of PROTOTYPE_NAMES) {
      for (const set of invalid) {
        const result = validateWith((m) => set(m, value));
        expect(result.ok, `${set.toString()} = ${value}`).toBe(false);
      }
      for (const set of free) {
        const result = validateWith((m) => set(m, value));
        expect(
          result.problems.filter((p) => p.severity === 'error'),
          `${set.toString()} = ${value}`,
        ).toEqual([]);
      }
    }
  });

  it('answers a schedule type named like a prototype member with the schedule types', () => {
    for (const value of PROTOTYPE_NAMES) {
      const result = validateWith((m) => (m.schedule = { type: value }));
      expect(result.problems).toContainEqual(
        expect.objectContaining({ code: 'invalid_enum', path: ['schedule', 'type'] }),
      );
      expect(result.problems.filter((p) => p.code === 'missing_field')).toEqual([]);
    }
  });
});

describe('validateManifest with prototype names as keys', () => {
  it('reports them as unknown keys wherever they sit', () => {
    for (const key of PROTOTYPE_NAMES) {
      const places: ((m: Record<string, any>) => Record<string, unknown>)[] = [
        (m) => m,
        (m) => m.source,
        (m) => m.source.auth,
        (m) => m.source.auth.config,
        (m) => m.schema,
        (m) => m.schema.entities[0],
        (m) => m.schema.entities[0].fields[0],
        (m) => m.destination,
        (m) => m.schedule,
        (m) => m.governance.contract.slo,
      ];
      for (const place of places) {
        const result = validateWith((m) => {
          // A JSON parser makes "__proto__" an own key; so does defineProperty.
          Object.defineProperty(place(m), key, {
            value: { nested: 'x' },
            enumerable: true,
            writable: true,
            configurable: true,
          });
        });
        expect(result.ok, key).toBe(false);
        expect(
          result.problems.some((p) => p.code === 'unknown_key' && p.path[p.path.length - 1] === key),
          key,
        ).toBe(true);
      }
    }
  });

  it('answers a manifest parsed from JSON text with "__proto__" keys', () => {
    const text = JSON.stringify(example('postgres-orders-cdc')).replace(
      '"config":{}',
      '"config":{"__proto__":{"tokenEnvVar":"X"},"constructor":"y"}',
    );
    const result = validateManifest(JSON.parse(text));
    expectAnswer(result);
    expect(result.ok).toBe(false);
  });

  it('does not take an inherited member for a field the manifest lacks', () => {
    // "toString" is on every object's prototype; it is not a field of the entity.
    const result = validateWith((m) => (m.schema.entities[0].primaryKey = ['toString']));
    expect(result.problems).toContainEqual(
      expect.objectContaining({ code: 'unknown_field', path: ['schema', 'entities', 0, 'primaryKey', 0] }),
    );
  });
});

describe('validateManifest never echoes a secret in a problem', () => {
  const places: [string, (m: Record<string, any>, v: unknown) => void][] = [
    ['auth.config.tokenUrl', (m, v) => (m.source.auth.config.tokenUrl = v)],
    ['auth.config.headerName', (m, v) => (m.source.auth.config.headerName = v)],
    ['auth.config unknown key', (m, v) => (m.source.auth.config.dsn = v)],
    ['auth.config.scopes', (m, v) => (m.source.auth.config.scopes = [v])],
    ['mergeKeys', (m, v) => (m.destination.mergeKeys = [v])],
    ['partitionBy', (m, v) => (m.destination.partitionBy = [v])],
    ['primaryKey', (m, v) => (m.schema.entities[0].primaryKey = [v])],
    ['incrementalKey', (m, v) => ((m.schema.updateStrategy = 'incremental'), (m.schema.incrementalKey = v))],
    [
      'cdc cursorField',
      (m, v) => ((m.schema.cdcConfig.cursorType = 'timestamp'), (m.schema.cdcConfig.cursorField = v)),
    ],
    ['field type', (m, v) => (m.schema.entities[0].fields[0].type = v)],
    ['format', (m, v) => (m.destination.format = v)],
    ['compression', (m, v) => (m.destination.compression = v)],
    ['lakePath', (m, v) => (m.destination.lakePath = v)],
    ['id', (m, v) => (m.id = v)],
    ['version', (m, v) => (m.version = v)],
    ['contract version', (m, v) => (m.governance.contract.version = v)],
    ['cron expression', (m, v) => (m.schedule = { type: 'cron', expression: v })],
    [
      'relationship entity',
      (m, v) =>
        (m.schema.relationships = [
          { from: { entity: v, field: 'id' }, to: { entity: 'orders', field: 'id' }, type: 'one_to_one' },
        ]),
    ],
    ['provider', (m, v) => (m.source.provider = v)],
    ['baseUrl', (m, v) => (m.source.baseUrl = v)],
    ['owner', (m, v) => (m.governance.owner = v)],
    ['nested array', (m, v) => (m.destination.mergeKeys = [[v]])],
    ['nested object', (m, v) => (m.destination.mergeKeys = [{ url: v }])],
  ];
  const secrets: [string, string][] = [
    [URL_WITH_PASSWORD, PASSWORD],
    [`mysql://db/orders?user=app&password=${PASSWORD}`, PASSWORD],
    [`host=db dbname=orders password=${PASSWORD}`, PASSWORD],
    [`https://app:${PASSWORD}@api.example.com/v1`, PASSWORD],
    ['AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    [`${'x'.repeat(70)} postgresql://app:${PASSWORD}@db/orders`, PASSWORD],
  ];

  it('redacts a connection URL with a password in auth.config', () => {
    const result = validateWith((m) => (m.source.auth.config.tokenUrl = URL_WITH_PASSWORD));
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('redacts a connection URL with a password in mergeKeys', () => {
    const result = validateWith((m) => (m.destination.mergeKeys = [URL_WITH_PASSWORD]));
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining({ path: ['destination', 'mergeKeys', 0] }));
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('redacts every credential-looking value wherever it sits', () => {
    for (const [place, set] of places) {
      for (const [value, secret] of secrets) {
        const result = validateWith((m) => set(m, value));
        expect(JSON.stringify(result), `${value} in ${place}`).not.toContain(secret);
      }
    }
  });

  it('redacts a credential used as a key', () => {
    const result = validateWith((m) => (m.source.auth.config[URL_WITH_PASSWORD] = 'x'));
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });
});

describe('validateManifest on documents that are not plain manifests', () => {
  it('answers a document nested 100 000 levels deep, a secret at the bottom', () => {
    let deep: unknown = URL_WITH_PASSWORD;
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { level: deep };
    const result = validateWith((m) => (m.destination.mergeKeys = [deep]));
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual(expect.objectContaining({ code: 'literal_secret' }));
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('answers a document that refers to itself', () => {
    const m = example('postgres-orders-cdc');
    m.destination.mergeKeys = [m.destination];
    m.source.auth.config.self = m;
    const result = validateManifest(m);
    expectAnswer(result);
    expect(result.ok).toBe(false);
  });

  it('answers arrays that carry a "constructor" of their own', () => {
    const m = example('postgres-orders-cdc');
    Object.defineProperty(m.schema.entities, 'constructor', { value: null, enumerable: true });
    Object.defineProperty(m.destination.mergeKeys, 'constructor', { value: 'x', enumerable: true });
    expectAnswer(validateManifest(m));
  });

  it('answers a document whose getter throws, naming no secret from the error', () => {
    const m = example('postgres-orders-cdc');
    Object.defineProperty(m.source, 'auth', {
      enumerable: true,
      get() {
        throw new Error(`cannot reach ${URL_WITH_PASSWORD}`);
      },
    });
    const result = validateManifest(m);
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ code: 'unreadable', path: [] })]);
    expect(JSON.stringify(result)).not.toContain(PASSWORD);
  });

  it('reports a string of 1 MB by its length, never quoting it', () => {
    const huge = `${'x'.repeat(1 << 20)} ${URL_WITH_PASSWORD}`;
    const result = validateWith((m) => (m.name = huge));
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'too_long', path: ['name'], found: `${huge.length} characters` }),
    ]);
    expect(JSON.stringify(result).length).toBeLessThan(2000);
  });
});

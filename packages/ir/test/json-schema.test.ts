import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEDULE_TYPES, SOURCE_TYPES, manifestJsonSchema, providerJsonSchema } from '../src/index.js';

const committed = (name: string) =>
  JSON.parse(readFileSync(new URL(`../schema/${name}`, import.meta.url), 'utf8')) as unknown;

describe('exported JSON Schemas', () => {
  it('match the committed copies (run `npm run schema:export` after changing the IR)', () => {
    expect(committed('connector-manifest.schema.json')).toEqual(manifestJsonSchema());
    expect(committed('provider.schema.json')).toEqual(providerJsonSchema());
  });

  it('describe every top-level section of the manifest and forbid unknown keys', () => {
    const schema = manifestJsonSchema() as { required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(
      expect.arrayContaining(['id', 'name', 'version', 'source', 'schema', 'destination', 'schedule', 'governance']),
    );
    expect(schema.additionalProperties).toBe(false);
  });
});

interface Branch {
  properties: Record<string, { const?: string }>;
  required: string[];
  additionalProperties: boolean;
}

/** The branches of a section's oneOf, by the const of their `type`. */
function kinds(section: string): Map<string, Branch> {
  const schema = manifestJsonSchema() as { properties: Record<string, { oneOf?: Branch[] }> };
  const oneOf = schema.properties[section]?.oneOf ?? [];
  return new Map(oneOf.map((branch) => [branch.properties.type?.const ?? '', branch]));
}

/** Whether a branch's own rules (the discriminator, required keys, no other keys) accept an object. */
function accepts(branch: Branch, value: Record<string, unknown>): boolean {
  return (
    value.type === branch.properties.type?.const &&
    branch.required.every((key) => Object.hasOwn(value, key)) &&
    (branch.additionalProperties || Object.keys(value).every((key) => Object.hasOwn(branch.properties, key)))
  );
}

describe('per-kind rules in the exported JSON Schema', () => {
  it('has one source shape per source type, each closed and keyed by a const type', () => {
    const sources = kinds('source');
    expect([...sources.keys()].sort()).toEqual([...SOURCE_TYPES].sort());
    for (const branch of sources.values()) {
      expect(branch.additionalProperties).toBe(false);
      expect(branch.required).toEqual(expect.arrayContaining(['type', 'provider', 'auth']));
    }
    expect(sources.get('jdbc')!.required).toContain('connectionString');
    expect(sources.get('stream')!.required).toContain('connectionString');
    expect(sources.get('rest_api')!.required).toContain('baseUrl');
    expect(sources.get('graphql')!.required).toContain('baseUrl');
  });

  it('rejects a jdbc source without connectionString, and accepts it with one', () => {
    const auth = { method: 'basic', config: {} };
    const jdbc = { type: 'jdbc', provider: 'postgres', auth };
    const branches = [...kinds('source').values()];
    expect(branches.filter((b) => accepts(b, jdbc))).toHaveLength(0);
    expect(branches.filter((b) => accepts(b, { ...jdbc, connectionString: '${PG_URL}' }))).toHaveLength(1);
    // A base URL is no setting of a database source.
    expect(
      branches.filter((b) => accepts(b, { ...jdbc, connectionString: '${PG_URL}', baseUrl: 'https://x' })),
    ).toHaveLength(0);
  });

  it('has one schedule shape per schedule type; a cron schedule without expression matches none', () => {
    const schedules = kinds('schedule');
    expect([...schedules.keys()].sort()).toEqual([...SCHEDULE_TYPES].sort());
    const branches = [...schedules.values()];
    expect(branches.filter((b) => accepts(b, { type: 'cron' }))).toHaveLength(0);
    expect(branches.filter((b) => accepts(b, { type: 'cron', expression: '0 * * * *' }))).toHaveLength(1);
    expect(branches.filter((b) => accepts(b, { type: 'interval' }))).toHaveLength(0);
    expect(branches.filter((b) => accepts(b, { type: 'event' }))).toHaveLength(0);
    expect(branches.filter((b) => accepts(b, { type: 'continuous' }))).toHaveLength(1);
    expect(branches.filter((b) => accepts(b, { type: 'continuous', intervalSeconds: 5 }))).toHaveLength(0);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestJsonSchema, providerJsonSchema } from '../src/index.js';

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

import { describe, expect, it } from 'vitest';
import { mapPgType as runtimePgType } from '@connector-factory/runtime/postgres-types';
import { mapPgType } from '../../src/agents/schema/postgres/postgres-introspector.js';

const numeric = (precision: number, scale: number) => ((precision << 16) | (scale & 0x7ff)) + 4;

/** Base types by name and category, with the typmods that change their mapping. */
const TYPES: ReadonlyArray<readonly [name: string, category: string, typmod: number]> = [
  ['int2', 'N', -1],
  ['int4', 'N', -1],
  ['int8', 'N', -1],
  ['oid', 'N', -1],
  ['float4', 'N', -1],
  ['float8', 'N', -1],
  ['numeric', 'N', -1],
  ['numeric', 'N', numeric(12, 2)],
  ['numeric', 'N', numeric(38, 0)],
  ['numeric', 'N', numeric(39, 2)],
  ['numeric', 'N', numeric(5, -2)],
  ['numeric', 'N', numeric(2, 5)],
  ['bool', 'B', -1],
  ['date', 'D', -1],
  ['timestamp', 'D', -1],
  ['timestamptz', 'D', -1],
  ['time', 'D', -1],
  ['interval', 'T', -1],
  ['json', 'U', -1],
  ['jsonb', 'U', -1],
  ['_int4', 'A', -1],
  ['_text', 'A', -1],
  ['text', 'S', -1],
  ['varchar', 'S', 36],
  ['uuid', 'U', -1],
  ['bytea', 'U', -1],
  ['inet', 'I', -1],
  ['money', 'N', -1],
];

describe('PostgreSQL types in the Schema Agent', () => {
  it('map to the IR types and number hints the runtime reads them as', () => {
    for (const [name, category, typmod] of TYPES) {
      const runtime = runtimePgType({ name, category }, typmod);
      const agent = mapPgType({ name, category }, typmod);
      expect({ type: agent.type, numberHint: agent.numberHint }, `${name} (${typmod})`).toEqual({
        type: runtime.type,
        numberHint: runtime.numberHint,
      });
    }
  });

  it('say why a numeric becomes text', () => {
    expect(mapPgType({ name: 'numeric', category: 'N' }, -1).note).toContain('exact text');
    expect(mapPgType({ name: 'numeric', category: 'N' }, numeric(39, 2)).note).toContain('exact text');
    expect(mapPgType({ name: 'numeric', category: 'N' }, numeric(12, 2)).note).toBeUndefined();
  });
});

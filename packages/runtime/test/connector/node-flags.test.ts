import { describe, expect, it } from 'vitest';
import { connectorNodeFlags, type NodeFlagInputs } from '../../src/connector/node-flags.js';

const manifest = (
  changes: { provider?: string; strategy?: string; writeMode?: string; pii?: boolean; piiHandling?: string } = {},
): NodeFlagInputs => ({
  source: { provider: changes.provider ?? 'postgres' },
  schema: {
    updateStrategy: changes.strategy ?? 'full_refresh',
    entities: [{ fields: [{}, { pii: changes.pii ?? false }] }],
  },
  destination: { writeMode: changes.writeMode ?? 'overwrite' },
  governance: { piiHandling: changes.piiHandling ?? 'mask' },
});

describe('connectorNodeFlags', () => {
  it('gives a connector whose rows travel as CSV bytes a small young generation', () => {
    expect(connectorNodeFlags(manifest())).toEqual(['--max-semi-space-size=8']);
    expect(connectorNodeFlags(manifest({ provider: 'postgresql' }))).toEqual(['--max-semi-space-size=8']);
    // PII that is left out entirely is not transformed: the rows still pass as bytes.
    expect(connectorNodeFlags(manifest({ pii: true, piiHandling: 'exclude' }))).toEqual(['--max-semi-space-size=8']);
  });

  it("leaves every connector that builds records with Node's defaults", () => {
    expect(connectorNodeFlags(manifest({ strategy: 'cdc' }))).toEqual([]);
    expect(connectorNodeFlags(manifest({ strategy: 'incremental' }))).toEqual([]);
    expect(connectorNodeFlags(manifest({ provider: 'mysql' }))).toEqual([]);
    expect(connectorNodeFlags(manifest({ writeMode: 'merge' }))).toEqual([]);
    expect(connectorNodeFlags(manifest({ pii: true }))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { connectorNodeFlags } from '../../src/connector/node-flags.js';

describe('connectorNodeFlags', () => {
  it('gives a PostgreSQL full refresh (bytes, the CSV hand-over) a small young generation, and records the default', () => {
    expect(
      connectorNodeFlags({ source: { provider: 'postgres' }, schema: { updateStrategy: 'full_refresh' } }),
    ).toEqual(['--max-semi-space-size=8']);
    expect(connectorNodeFlags({ source: { provider: 'postgres' }, schema: { updateStrategy: 'cdc' } })).toEqual([]);
    expect(connectorNodeFlags({ source: { provider: 'postgres' }, schema: { updateStrategy: 'incremental' } })).toEqual(
      [],
    );
    expect(connectorNodeFlags({ source: { provider: 'mysql' }, schema: { updateStrategy: 'full_refresh' } })).toEqual(
      [],
    );
  });
});

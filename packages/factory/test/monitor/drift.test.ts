import { describe, expect, it } from 'vitest';
import type { ConnectorManifest, Entity } from '@connector-factory/ir';
import { classifyDrift, nextMinor, proposeManifest } from '../../src/agents/monitor/drift.js';
import type { SchemaDefinition } from '../../src/agents/schema/schema-definition.js';

const entity: Entity = {
  name: 'orders',
  primaryKey: ['id'],
  fields: [
    { name: 'id', type: 'number', nullable: false },
    { name: 'total', type: 'number', nullable: false },
    { name: 'note', type: 'string', nullable: true },
    { name: 'updated_at', type: 'datetime', nullable: false },
  ],
};
const manifest = {
  id: 'connector_postgres_orders_v1',
  version: '1.2.3',
  schema: { entities: [entity], updateStrategy: 'incremental', incrementalKey: 'updated_at' },
} as unknown as ConnectorManifest;
const live = (fields: Entity['fields'], primaryKey: string[] | undefined = ['id']): SchemaDefinition =>
  ({ entities: [{ name: 'orders', ...(primaryKey ? { primaryKey } : {}), fields }] }) as unknown as SchemaDefinition;

describe('classifyDrift', () => {
  it('finds no drift when the source is as built', () => {
    expect(classifyDrift(manifest, live(entity.fields))).toEqual({ classification: 'none', changes: [] });
  });

  it('calls a new column and a widened type non-breaking, and proposes the next minor version with them', () => {
    const fields = [
      ...entity.fields.map((f) => (f.name === 'updated_at' ? { ...f, type: 'date' as const } : f)),
      { name: 'channel', type: 'string' as const, nullable: false },
    ];
    const { classification, changes } = classifyDrift(manifest, live(fields));
    expect(classification).toBe('non_breaking');
    expect(changes.map((c) => [c.field, c.change, c.breaking])).toEqual([
      ['updated_at', 'type_changed', false],
      ['channel', 'field_added', false],
    ]);
    const proposal = proposeManifest(manifest, live(fields), changes);
    expect(proposal.version).toBe('1.3.0');
    expect(proposal.schema.entities[0]!.fields.at(-1)).toEqual({ name: 'channel', type: 'string', nullable: true });
  });

  it('calls a removed column, a narrowed type, nulls into a required column, a lost key and a lost cursor breaking', () => {
    const fields = entity.fields
      .filter((f) => f.name !== 'note' && f.name !== 'updated_at')
      .map((f) => (f.name === 'total' ? { ...f, type: 'string' as const, nullable: true } : f))
      .map((f) => (f.name === 'id' ? { ...f, type: 'boolean' as const } : f));
    const { classification, changes } = classifyDrift(manifest, live(fields, []));
    expect(classification).toBe('breaking');
    expect(
      changes
        .filter((c) => c.breaking)
        .map((c) => c.change)
        .sort(),
    ).toEqual(
      [
        'cursor_lost',
        'field_removed',
        'field_removed',
        'now_nullable',
        'primary_key_changed',
        'type_changed',
        'type_changed',
      ].sort(),
    );
    // A number lake column cannot take strings or booleans.
    expect(changes.find((c) => c.field === 'total' && c.change === 'type_changed')).toMatchObject({ breaking: true });
    expect(changes.find((c) => c.field === 'id')).toMatchObject({ change: 'type_changed', breaking: true });
  });

  it('calls a dropped table breaking', () => {
    const { classification, changes } = classifyDrift(manifest, { entities: [] } as unknown as SchemaDefinition);
    expect(classification).toBe('breaking');
    expect(changes).toEqual([expect.objectContaining({ change: 'entity_removed', breaking: true })]);
  });

  it('bumps the minor version', () => {
    expect(nextMinor('1.0.0')).toBe('1.1.0');
    expect(nextMinor('2.9.7')).toBe('2.10.0');
  });
});

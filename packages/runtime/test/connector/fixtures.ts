import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConnectorManifest, Field, Schema } from '@connector-factory/ir';
import type { EntityRef, ReadMode, Source, SourceChunk, SourceState } from '../../src/sources/source.js';

/** A manifest for a PostgreSQL test table (connection from ${CF_TEST_PG_URL}); tests give what differs. */
export function pgTestManifest(
  table: string,
  parts: {
    readonly fields: Field[];
    readonly strategy: Pick<Schema, 'updateStrategy' | 'incrementalKey' | 'cdcConfig'>;
    readonly destination: Partial<ConnectorManifest['destination']> &
      Pick<ConnectorManifest['destination'], 'lakePath'>;
    readonly schedule: ConnectorManifest['schedule'];
  },
): ConnectorManifest {
  return {
    id: `connector_postgres_${table}_v1`,
    name: table,
    version: '1.0.0',
    source: {
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${CF_TEST_PG_URL}',
      auth: { method: 'basic', config: {} },
    },
    schema: { entities: [{ name: table, primaryKey: ['id'], fields: parts.fields }], ...parts.strategy },
    destination: {
      format: 'delta',
      compression: 'zstd',
      partitionBy: [],
      writeMode: 'merge',
      mergeKeys: ['id'],
      ...parts.destination,
    },
    schedule: parts.schedule,
    governance: {
      owner: 'test',
      classification: 'internal',
      retentionDays: 7,
      piiHandling: 'mask',
      contract: { version: '1.0.0', slo: { freshnessMinutes: 60, availabilityPercent: 99, errorRatePercent: 1 } },
    },
  };
}

/** How a source handed its chunks over: in binary (columnar), as CSV, as rows. */
export interface HandoverCounts {
  binary: number;
  csv: number;
  rows: number;
}

/**
 * Wraps a source to count how it handed chunks over; with `csvOnly` a full refresh is not offered the
 * binary hand-over (the mode without its lake columns).
 */
export function countingSource(counts: HandoverCounts, csvOnly = false): (inner: Source) => Source {
  return (inner) => ({
    check: () => inner.check(),
    columns: (entity) => inner.columns(entity),
    close: () => inner.close(),
    async *read(
      entity: EntityRef,
      mode: ReadMode,
      state: SourceState | undefined,
      signal?: AbortSignal,
    ): AsyncGenerator<SourceChunk> {
      const offered: ReadMode =
        csvOnly && mode.strategy === 'full_refresh'
          ? { strategy: 'full_refresh', ...(mode.csv ? { csv: true } : {}) }
          : mode;
      for await (const chunk of inner.read(entity, offered, state, signal)) {
        if (chunk.kind === 'columnar') counts.binary++;
        else if (chunk.kind === 'csv') counts.csv++;
        else if (chunk.rows.length > 0) counts.rows++;
        yield chunk;
      }
    },
  });
}

/** The quarantined records of a connector's table (none when it has no quarantine). */
export function readQuarantine(
  lake: string,
  appId: string,
): Array<{ reason: string; record: Record<string, unknown> }> {
  const dir = join(lake, '_quarantine', encodeURIComponent(appId));
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reason: string; record: Record<string, unknown> }),
  );
}

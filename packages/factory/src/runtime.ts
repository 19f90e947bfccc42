import type { ConnectorOptions, RunSummary } from '@connector-factory/runtime';
import { FactoryError } from './errors.js';

export type { ConnectorOptions, RunSummary };

// The runtime (DuckDB, the AWS SDK, database drivers) loads on first use, so commands that never run a
// connector — validate, providers, discover — start in a fraction of the time.
const runtime = () => import('@connector-factory/runtime');

/** Runs a connector from its manifest (see the runtime's runConnector). */
export async function runConnector(options: ConnectorOptions): Promise<RunSummary | undefined> {
  return (await runtime()).runConnector(options);
}

/** Decrypts `enc:v1:…` PII values with the key in CF_PII_ENCRYPTION_KEY of `env`. */
export async function decryptValues(
  values: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const { decryptColumnValues, decryptionKeyFromEnv } = await runtime();
  const { keyText, options } = decryptionKeyFromEnv(env);
  return decryptColumnValues(values, keyText, options);
}

/** Whether an error is the runtime's RuntimeError (checked by name, so the runtime need not be loaded). */
export function isRuntimeError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error && error.name === 'RuntimeError' && typeof (error as { code?: unknown }).code === 'string'
  );
}

/**
 * Drops the replication slot(s) and publication of a CDC connector (run when the connector is removed,
 * so the slot stops holding WAL). Returns the names it dropped; safe to repeat.
 */
export async function dropConnectorReplication(
  manifest: ConnectorOptions['manifest'],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ slots: string[]; publication: string }> {
  const { dropReplication, expandEnv, replicationNamesOf } = await runtime();
  if (
    manifest.schema.updateStrategy !== 'cdc' ||
    manifest.source.type !== 'jdbc' ||
    !manifest.source.connectionString
  ) {
    throw new FactoryError(
      'invalid_input',
      `${manifest.id} is not a CDC connector on a database: it has no replication slot`,
    );
  }
  const url = expandEnv(manifest.source.connectionString, env);
  const slots: string[] = [];
  let publication = '';
  for (const entity of manifest.schema.entities) {
    const names = replicationNamesOf(manifest, entity.name);
    await dropReplication(url, names.slot, names.publication);
    slots.push(names.slot);
    publication = names.publication;
  }
  return { slots, publication };
}

/** Where an entity of a manifest lands in the lake (the runtime's tablePathOf), with env references expanded. */
export async function lakeTablePath(
  manifest: ConnectorOptions['manifest'],
  entity: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return (await runtime()).tablePathOf(manifest, entity, env);
}

/**
 * Rows in a lake table, from its log's file statistics (Delta add actions, or the plain log's files);
 * undefined when the table does not exist yet or a file has no statistics.
 */
export async function lakeRowCount(tablePath: string, format: string): Promise<number | undefined> {
  const { DeltaLog, PlainLog, openStore } = await runtime();
  const store = openStore(tablePath);
  try {
    if (format === 'delta') {
      const log = await DeltaLog.open(store);
      const { files } = await log.snapshot();
      let rows = 0;
      for (const file of files.values()) {
        if (file.stats === undefined) return undefined;
        rows += (JSON.parse(file.stats) as { numRecords: number }).numRecords;
      }
      return rows;
    }
    const { files } = await new PlainLog(store).snapshot();
    let rows = 0;
    for (const file of files.values()) {
      if (file.stats === undefined) return undefined;
      rows += file.stats.numRecords;
    }
    return rows;
  } catch {
    return undefined;
  }
}

/** A connector's /metrics read back: the spec's ConnectorMetrics, plus its run and error counters. */
export interface ScrapedMetrics {
  readonly metrics: Record<string, unknown>;
  readonly runs: number;
  readonly errors: number;
}

/** Scrapes a connector's /metrics; undefined when it does not answer. */
export async function scrapeMetrics(url: string, connectorId?: string): Promise<ScrapedMetrics | undefined> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) return undefined;
    text = await response.text();
  } catch {
    return undefined;
  }
  const { parseConnectorMetrics, parsePrometheusText, CONNECTOR_METRIC_NAMES } = await runtime();
  const parsed = parseConnectorMetrics(text, connectorId !== undefined ? { connectorId } : {});
  // One parse of the exposition for both counters (the ConnectorMetrics parse reads it on its own).
  const samples = parsePrometheusText(text).filter(
    (sample) => connectorId === undefined || sample.labels.connector_id === connectorId,
  );
  const sum = (name: string) => samples.reduce((total, s) => total + (s.name === name ? s.value : 0), 0);
  return {
    metrics: { ...parsed, lastSuccessfulRun: parsed.lastSuccessfulRun?.toISOString() ?? null },
    runs: sum(CONNECTOR_METRIC_NAMES.runs),
    errors: sum(CONNECTOR_METRIC_NAMES.errors),
  };
}

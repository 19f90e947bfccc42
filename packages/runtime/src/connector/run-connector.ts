import { sleep } from '../sleep.js';
import { Cron } from 'croner';
import type { ConnectorManifest } from '@connector-factory/ir';
import { DEFAULT_MAX_QUARANTINE_SHARE } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { parseTimestampMicros } from '../lake/conform.js';
import { isoMicros } from '../lake/spool/row-values.js';
import { openLakeWriter } from '../lake/open-lake-writer.js';
import type { Column, TableSchema } from '../lake/table-schema.js';
import { ConnectorMetricsRecorder } from '../observe/connector-metrics.js';
import { startHealthServer, type HealthReport } from '../observe/health-server.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { FileCheckpointStore } from '../run/checkpoint-store.js';
import { runSync, type RowTransformer, type RunSummary } from '../run/run-loop.js';
import { expandEnv } from '../sources/env.js';
import type { ReadMode, Source } from '../sources/source.js';
import { createTransformer, sourceFieldsFor } from '../transform/transformer.js';
import { entityTablePath, resolveConnectorConfig } from './connector-config.js';
import { createSource } from './create-source.js';
import { bulkHandoverPossible } from './bulk-handover.js';
import { entityOf, entityRefOf, readModeOf } from './read-mode.js';

export interface ConnectorOptions {
  readonly manifest: ConnectorManifest;
  /** The entity to sync (default: the first). */
  readonly entity?: string;
  /** One sync, then return (CDC: until caught up with the source). Otherwise follow the schedule. */
  readonly once?: boolean;
  readonly env?: NodeJS.ProcessEnv;
  /** Checkpoint folder (default $CF_STATE_DIR, else ./.connector-state). */
  readonly stateDir?: string;
  /** Serve /health, /ready and /metrics on this port (0 = any free port); none when undefined. */
  readonly healthPort?: number;
  readonly healthHost?: string;
  readonly logStream?: NodeJS.WritableStream;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly signal?: AbortSignal;
  /** Rows per lake batch (default 100 000) and, for continuous CDC, the flush interval (default 1 s). */
  readonly batchRows?: number;
  readonly flushIntervalMs?: number;
  /** Called once the health server listens (its URL) — for supervisors and tests. */
  readonly onListening?: (url: string) => void;
  /**
   * Hand full-refresh rows over in bulk (binary or CSV) where the source and transforms allow (default
   * true; the environment variable CF_CSV_HANDOVER=off turns it off too): see ReadMode's `columnar`
   * and `csv`. The name is the first hand-over's, kept so existing settings go on working.
   */
  readonly csvHandover?: boolean;
  /** Wraps the source the manifest names (instrumentation: tracing, tests). */
  readonly wrapSource?: (source: Source) => Source;
}

/** The lake table of an entity: the destination itself for one entity, a sub-folder per entity otherwise. */
export function tablePathOf(manifest: ConnectorManifest, entity: string, env: NodeJS.ProcessEnv = process.env): string {
  return entityTablePath(manifest, expandEnv(manifest.destination.lakePath, env), entity);
}

/** Milliseconds of a cursor value: the allocation-free ISO parser first (this runs per row), then the full one. */
function cursorMillis(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const micros = isoMicros(value);
    if (micros !== undefined) return Math.floor(micros / 1000);
  }
  const micros = parseTimestampMicros(value);
  return micros === undefined ? undefined : Number(micros / 1000n);
}

/**
 * A full refresh asks the source for rows in bulk when they can go to the lake as they are (no PII to
 * transform, no merge): in its binary form (`columnar`, the lake columns of the fields) or as CSV
 * text (where every column's CSV text is what the lake takes). PostgreSQL's COPY output then never
 * becomes JS objects.
 */
function withBulk(
  mode: ReadMode,
  bulk: { columnar: boolean; csv: boolean },
  schema: TableSchema,
  fields: readonly string[],
): ReadMode {
  if (mode.strategy !== 'full_refresh') return mode;
  const columns = fields.map((name) => schema.columns.find((c) => c.name === name));
  const columnar = bulk.columnar && columns.every((c) => c !== undefined) ? { columnar: columns as Column[] } : {};
  return { ...mode, ...(bulk.csv ? { csv: true } : {}), ...columnar };
}

/** Counts nulls and finds the newest incremental-key time in a batch, for the quality and freshness metrics. */
function observing(
  transformer: RowTransformer,
  cursor: string | undefined,
  into: { nulls: number; fields: number; newest: number },
): RowTransformer {
  return {
    ...(transformer.csvPage ? { csvPage: transformer.csvPage.bind(transformer) } : {}),
    ...(transformer.columnarPage ? { columnarPage: transformer.columnarPage.bind(transformer) } : {}),
    apply(rows, extractedAt) {
      const out = transformer.apply(rows, extractedAt);
      for (const row of out) {
        for (const key in row) {
          into.fields++;
          if (row[key] === null || row[key] === undefined) into.nulls++;
        }
        if (cursor !== undefined) {
          const millis = cursorMillis(row[cursor]);
          if (millis !== undefined && millis > into.newest) into.newest = millis;
        }
      }
      return out;
    },
  };
}

/**
 * Runs a connector from its manifest: the source, the transforms (metadata columns, PII), the lake
 * writer, the checkpoint store, metrics, health and logs — once, or on the manifest's schedule
 * (cron with seconds, interval, continuous CDC with restart and backoff; an event-driven connector is
 * started once per event by its supervisor). Returns the summary of the last sync.
 */
export async function runConnector(options: ConnectorOptions): Promise<RunSummary | undefined> {
  const { manifest } = options;
  const entity = entityOf(manifest, options.entity);
  // The environment is read here, once: everything below takes the resolved configuration.
  const config = resolveConnectorConfig(manifest, options.env ?? process.env, {
    ...(options.batchRows !== undefined ? { batchRows: options.batchRows } : {}),
    ...(options.stateDir !== undefined ? { stateDir: options.stateDir } : {}),
    ...(options.csvHandover !== undefined ? { csvHandover: options.csvHandover } : {}),
  });
  const { secrets } = config;
  const logger: Logger = createLogger({
    connectorId: manifest.id,
    version: manifest.version,
    secrets,
    ...(options.logStream ? { stream: options.logStream } : {}),
    ...(options.logLevel ? { level: options.logLevel } : {}),
  });
  const metrics = new ConnectorMetricsRecorder({ connectorId: manifest.id, version: manifest.version, secrets });
  let ready = false;
  let lastFailure: string | undefined;
  const events = new EventQueue();
  const server =
    options.healthPort === undefined
      ? undefined
      : await startHealthServer({
          port: options.healthPort,
          ...(options.healthHost ? { host: options.healthHost } : {}),
          metrics,
          logger,
          ready: () => ready,
          health: (): HealthReport =>
            lastFailure === undefined ? { ok: true, details: { ready } } : { ok: false, reason: lastFailure },
          ...(manifest.schedule.type === 'event' && !options.once ? { trigger: () => events.push() } : {}),
        });
  if (server) {
    logger.info('serving health and metrics', { url: server.url });
    options.onListening?.(server.url);
  }

  // Operators' knobs: rows per source chunk (a resumable point) and rows per lake batch.
  const { chunkRows, batchRows } = config.limits;
  const created = createSource(manifest, config.vars, {
    ...(chunkRows !== undefined ? { chunkRows } : {}),
    ...(config.connection !== undefined ? { connection: config.connection } : {}),
  });
  const source = options.wrapSource ? options.wrapSource(created) : created;
  // Rows in bulk (binary or CSV) unless turned off; the manifest and the transformer decide the rest.
  const bulk = config.limits.csvHandover && bulkHandoverPossible(manifest);
  const tablePath = config.tablePath(entity.name);
  let writer: Awaited<ReturnType<typeof openLakeWriter>> | undefined;
  try {
    await source.check();
    const fields = sourceFieldsFor(manifest, entity.name);
    const ref = entityRefOf(entity, fields);
    const sourceColumns = await source.columns(ref);
    const transformer = createTransformer(manifest, entity.name, { sourceColumns, keys: config.keys });
    writer = await openLakeWriter({
      lakePath: tablePath,
      format: manifest.destination.format,
      compression: manifest.destination.compression,
      writeMode: manifest.destination.writeMode,
      schema: transformer.schema,
      appId: manifest.id,
    });
    ready = true;
    const checkpoints = new FileCheckpointStore(config.limits.stateDir);
    const cursor = manifest.schema.updateStrategy === 'incremental' ? manifest.schema.incrementalKey : undefined;
    const openWriter = writer;

    const syncOnce = async (once: boolean): Promise<RunSummary> => {
      const started = Date.now();
      const seen = { nulls: 0, fields: 0, newest: 0 };
      logger.info('sync started', { entity: entity.name, table: tablePath, strategy: manifest.schema.updateStrategy });
      try {
        const summary = await runSync({
          connectorId: manifest.id,
          source,
          entity: ref,
          mode: withBulk(
            readModeOf(manifest, { once, entity: entity.name }),
            { columnar: bulk && transformer.passesBulk, csv: bulk && transformer.passesCsv },
            transformer.schema,
            ref.fields,
          ),
          transformer: observing(transformer, cursor, seen),
          writer: openWriter,
          checkpoints,
          ...(batchRows !== undefined ? { batchRows } : {}),
          maxQuarantineShare: manifest.quality?.maxQuarantineShare ?? DEFAULT_MAX_QUARANTINE_SHARE,
          ...(manifest.schema.updateStrategy === 'cdc' ? { flushIntervalMs: options.flushIntervalMs ?? 1000 } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: ({ rowsRead, elapsedMs }) =>
            logger.info('sync progress', {
              entity: entity.name,
              rows: rowsRead,
              rowsPerSecond: Math.round(rowsRead / Math.max(elapsedMs / 1000, 0.001)),
            }),
          onBatch: (report) => {
            metrics.recordBatch({
              records: report.rowsRead,
              bytes: report.result.bytesWritten,
              durationMs: report.durationMs,
              nullFields: seen.nulls + (report.result.bulkNulls?.nulls ?? 0),
              fields: seen.fields + (report.result.bulkNulls?.fields ?? 0),
              schemaViolations: report.result.rowsQuarantined,
              ...(seen.newest > 0 ? { newestSourceTime: new Date(seen.newest) } : {}),
            });
            seen.nulls = 0;
            seen.fields = 0;
            logger.info('batch committed', {
              batch: report.result.batchId,
              rows: report.rowsRead,
              written: report.result.rowsWritten,
              quarantined: report.result.rowsQuarantined,
              files: report.result.filesAdded,
              tableVersion: report.result.tableVersion,
            });
          },
        });
        metrics.recordRun('success', undefined, { durationMs: Date.now() - started });
        lastFailure = undefined;
        logger.info('sync finished', { ...summary, ms: Date.now() - started });
        return summary;
      } catch (error) {
        metrics.recordRun('failure', error, { durationMs: Date.now() - started });
        lastFailure = metrics.errorMessage(error);
        logger.error('sync failed', { error });
        throw error;
      }
    };

    if (options.once) return await syncOnce(true);
    return await followSchedule(manifest, syncOnce, logger, options.signal, events);
  } finally {
    ready = false;
    await writer?.close();
    await source.close();
    await server?.close();
  }
}

/** Pending sync requests of an event-driven connector: at most one waits while a sync runs. */
class EventQueue {
  private pending = false;
  private wake: (() => void) | undefined;

  /** Queues a sync; false when one is already waiting. */
  push(): boolean {
    if (this.pending) return false;
    this.pending = true;
    this.wake?.();
    return true;
  }

  /** Waits for the next request; false once the signal aborts. */
  async next(signal: AbortSignal | undefined): Promise<boolean> {
    while (!this.pending) {
      if (signal?.aborted) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.wake = done;
        signal?.addEventListener('abort', done, { once: true });
      });
      this.wake = undefined;
    }
    if (signal?.aborted) return false;
    this.pending = false;
    return true;
  }
}

/**
 * Codes no restart can fix: the manifest, the credentials or the grants must change first (the
 * configuration is resolved once, at start). Everything else is worth another attempt: what the source
 * marks retryable (source_unavailable) first of all, and the lake's and the reader's own failures.
 */
const NEEDS_A_CHANGE: ReadonlySet<string> = new Set(['config', 'source_auth', 'source_permission']);

/** Whether a failed continuous sync restarts (with backoff) or ends the connector: by the error's code. */
function worthRestarting(error: unknown): boolean {
  if (!(error instanceof RuntimeError)) return true;
  return error.retryable || !NEEDS_A_CHANGE.has(error.code);
}

/**
 * Runs syncs on the manifest's schedule until the signal aborts. A continuous sync that fails restarts
 * with backoff unless its code says a restart cannot help (`worthRestarting`); a scheduled one is
 * retried by the next tick or event.
 */
async function followSchedule(
  manifest: ConnectorManifest,
  sync: (once: boolean) => Promise<RunSummary>,
  logger: Logger,
  signal: AbortSignal | undefined,
  events: EventQueue,
): Promise<RunSummary | undefined> {
  const { schedule } = manifest;
  let last: RunSummary | undefined;
  const aborted = () => signal?.aborted === true;
  if (schedule.type === 'event') {
    // Each POST /trigger (from the event source: a webhook, a queue consumer) asks for one sync; events
    // that arrive during a sync coalesce into one more.
    logger.info('waiting for events on POST /trigger', { eventSource: schedule.eventSource });
    while (await events.next(signal)) {
      try {
        last = await sync(true);
      } catch {
        // Logged and counted by the sync; the next event retries from the last checkpoint.
      }
    }
    return last;
  }
  if (schedule.type === 'continuous') {
    // CDC streams until stopped; a failure (source restart, network) restarts it with backoff, a refusal
    // (credentials, grants, configuration) ends it.
    let backoff = 1000;
    while (!aborted()) {
      try {
        last = await sync(false);
        backoff = 1000;
      } catch (error) {
        if (aborted()) break;
        if (!worthRestarting(error)) throw error;
        logger.warn('restarting after failure', { inMs: backoff, error });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 60_000);
      }
    }
    return last;
  }
  const nextDelay = (() => {
    if (schedule.type === 'interval') return () => (schedule.intervalSeconds ?? 60) * 1000;
    if (!schedule.expression)
      throw new RuntimeError('config', `${manifest.id}: a cron schedule needs schedule.expression`);
    const cron = new Cron(schedule.expression, { timezone: 'UTC', paused: true });
    return () => Math.max(0, (cron.nextRun()?.getTime() ?? Date.now() + 60_000) - Date.now());
  })();
  while (!aborted()) {
    try {
      last = await sync(true);
    } catch {
      // Logged and counted by the sync; the next tick retries from the last checkpoint.
    }
    await sleep(nextDelay(), signal);
  }
  return last;
}

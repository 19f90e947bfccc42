import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import type { ProgressListener } from '../agents/deploy/build-package.js';
import type { DeployContext } from '../agents/deploy/deploy.js';
import { LocalSupervisor } from '../agents/deploy/local/local-supervisor.js';
import { probeHealth } from '../agents/deploy/wait-for-healthy.js';
import { lineSink } from '../agents/monitor/alert-sinks.js';
import { Monitor } from '../agents/monitor/monitor.js';
import { createConnector, type CreateSummary } from '../orchestrator/create-connector.js';
import type { ProviderRegistry } from '../registry/provider-registry.js';
import { lakeRowCount } from '../runtime.js';
import { countOrders, seedOrders, startChangeStream, startDemoPostgres } from './demo-postgres.js';

/** The spec's example 2, word for word. */
export const DEMO_DESCRIPTION = 'Stream changes from orders table in Postgres';
/** The variable the demo's connection string travels in (the spec's example names it). */
export const DEMO_CONNECTION_VARIABLE = 'POSTGRES_CONNECTION_STRING';

export interface DemoOptions {
  readonly registry: ProviderRegistry;
  /** The lake folder. Default ./lake. */
  readonly lake?: string;
  /** Orders in the table before the connector starts. Default 1000. */
  readonly seedRows?: number;
  /** How often the status line is printed. Default 2000 ms. */
  readonly statusEveryMs?: number;
  readonly signal: AbortSignal;
  readonly progress?: ProgressListener;
  /** One line of output. */
  readonly print: (line: string) => void;
  /** Called with each status (tests read it). */
  readonly onStatus?: (status: DemoStatus) => void;
  /** Called once the connector is deployed. */
  readonly onDeployed?: (summary: CreateSummary) => void;
}

/** One look at the running demo. */
export interface DemoStatus {
  readonly sourceRows: number;
  readonly lakeRows: number | undefined;
  readonly health: string;
  readonly changes: { readonly inserts: number; readonly updates: number; readonly deletes: number };
  readonly recordsProcessed: number | undefined;
  /** The SLOs the Monitor found breached (none: all met). */
  readonly slosBreached: readonly string[];
  readonly certification: string | null;
}

function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * `connector-factory demo`: the main job on embedded defaults. Starts a throwaway PostgreSQL with a
 * sample `orders` table, runs `create` for "Stream changes from orders table in Postgres" (CDC into a
 * Delta table, merged on id), deploys it with an in-process local supervisor, keeps changing the orders
 * and prints the lake catching up, the connector's health and its metrics until the signal aborts;
 * then stops the connector, the change stream and the database, and marks the deployment stopped.
 * Stopped before the connector is deployed (Ctrl-C or --duration during `create`), it ends the same way,
 * with no summary: what `create` was doing when stopped is not an error.
 */
export async function runDemo(
  options: DemoOptions,
  context: Omit<DeployContext, 'target'>,
): Promise<CreateSummary | undefined> {
  const { print } = options;
  const lake = resolve(options.lake ?? 'lake');
  print('starting an embedded PostgreSQL 17 with a sample orders table …');
  const database = await startDemoPostgres(print);
  const supervisor = new LocalSupervisor({ home: context.home });
  let stream: ReturnType<typeof startChangeStream> | undefined;
  let summary: CreateSummary | undefined;
  try {
    await seedOrders(database.url, options.seedRows ?? 1000);
    print(`PostgreSQL on 127.0.0.1:${database.port}; ${DEMO_CONNECTION_VARIABLE} holds its URL for the connector`);
    const env = { ...process.env, [DEMO_CONNECTION_VARIABLE]: database.url };
    const tableDir = join(lake, 'postgres', 'orders');
    // A fresh database each run: the demo's table and checkpoint from an earlier run would not match it.
    await rm(tableDir, { recursive: true, force: true });
    await rm(join(context.home, 'state', 'connector_postgres_orders_v1'), { recursive: true, force: true });
    summary = await createConnector(
      {
        description: DEMO_DESCRIPTION,
        connection: `\${${DEMO_CONNECTION_VARIABLE}}`,
        lake: `${tableDir}/`,
        format: 'delta',
        environment: 'dev',
        // A minute, so the demo shows the certification workflow reach REVIEW (the default is 24 h).
        certifyAfterMs: 60_000,
        outDir: join(context.home, 'demo', 'connectors'),
        force: true,
        registry: options.registry,
        env,
        signal: options.signal,
        ...(options.progress ? { progress: options.progress } : {}),
      },
      { ...context, target: supervisor },
    ).catch((error: unknown) => {
      if (options.signal.aborted) return undefined;
      throw error;
    });
    if (summary === undefined) return undefined;
    options.onDeployed?.(summary);
    print(`deployed ${summary.connectorId} as ${summary.deploymentId}`);
    print(`  health   ${summary.healthUrl}`);
    print(`  metrics  ${summary.metricsUrl}`);
    print(`  lake     ${summary.lakeTablePath}`);
    print('changing orders every half second; Ctrl-C stops the demo');
    stream = startChangeStream(database.url);
    const monitor = new Monitor({
      store: context.store,
      target: supervisor,
      audit: context.audit,
      riskOf: (action) => context.cars.riskOf(action),
      home: context.home,
      sinks: [lineSink(print)],
      env,
      log: print,
    });
    const every = options.statusEveryMs ?? 2000;
    while (!options.signal.aborted) {
      await delay(every, undefined, { signal: options.signal }).catch(() => undefined);
      if (options.signal.aborted) break;
      const [look] = await monitor.tick();
      const failure = await probeHealth(summary.healthUrl);
      const metrics = await fetch(summary.metricsUrl)
        .then((response) => response.text())
        .catch(() => '');
      let sourceRows: number;
      try {
        sourceRows = await countOrders(database.url);
      } catch (error) {
        // Ctrl-C reaches the database first; anything else is worth a line, not the end of the demo.
        if (options.signal.aborted) break;
        print(`could not count the orders: ${(error as Error).message}`);
        continue;
      }
      const status: DemoStatus = {
        sourceRows,
        lakeRows: await lakeRowCount(summary.lakeTablePath, 'delta'),
        health: failure ?? 'ok',
        changes: { ...stream.counts },
        recordsProcessed: metricValue(metrics, 'connector_records_total'),
        slosBreached: look?.slos.filter((slo) => slo.breached).map((slo) => slo.name) ?? [],
        certification: look?.certification ?? null,
      };
      options.onStatus?.(status);
      print(
        `orders: ${status.sourceRows} in PostgreSQL, ${status.lakeRows ?? 0} in the lake · ` +
          `${status.changes.inserts} inserts, ${status.changes.updates} updates, ${status.changes.deletes} deletes so far · ` +
          `health ${status.health} · ${status.recordsProcessed ?? 0} records processed · ` +
          `SLOs ${status.slosBreached.length === 0 ? 'met' : `breached: ${status.slosBreached.join(', ')}`} · certification ${status.certification ?? '–'}`,
      );
    }
    return summary;
  } finally {
    print('stopping …');
    await stream?.stop();
    await supervisor.close();
    if (summary) await context.store.deployments.update(summary.deploymentId, { status: 'stopped' });
    await database.stop();
    print('demo stopped: the connector, the change stream and PostgreSQL are down; the lake stays in ' + lake);
  }
}

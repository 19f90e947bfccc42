import type { Command } from 'commander';
import {
  certificationEvidence,
  CertificationWorkflow,
  connectorStatuses,
  deploymentOf,
  FactoryError,
  findSupervisor,
  lineSink,
  LocalSupervisor,
  Monitor,
  RemoteSupervisor,
  resumeDeployment,
  webhookSink,
  type AlertSink,
  type DeployTarget,
  type FactoryContext,
  type SloResult,
} from '@connector-factory/factory';
import { parseDuration } from '../duration.js';
import { untilStopped } from '../stop-signal.js';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';
import { localTarget } from './deploy.js';

/** Alert sinks: stdout always, plus the webhook of --webhook or CONNECTOR_FACTORY_ALERT_WEBHOOK. */
export function alertSinks(io: Io, webhook: string | undefined): AlertSink[] {
  const url = webhook ?? process.env.CONNECTOR_FACTORY_ALERT_WEBHOOK;
  const sinks = [lineSink((line) => io.out(line))];
  if (url !== undefined && url !== '') {
    try {
      sinks.push(webhookSink(url));
    } catch {
      throw new FactoryError('usage', `the alert webhook "${url}" is not a URL`);
    }
  }
  return sinks;
}

export interface MonitorSettings {
  readonly webhook?: string;
  readonly window?: number;
  readonly driftEvery?: number;
  readonly pause?: boolean;
}

/** The Monitor agent over `target`, alerting to stdout and the webhook, logging to stderr. */
export function buildMonitor(
  context: FactoryContext,
  io: Io,
  target: DeployTarget,
  settings: MonitorSettings,
): Monitor {
  return new Monitor({
    store: context.store,
    target,
    audit: context.audit,
    riskOf: (action) => context.cars.riskOf(action),
    home: context.home,
    sinks: alertSinks(io, settings.webhook),
    log: (line) => io.err(`${new Date().toISOString()} ${line}`),
    ...(settings.window !== undefined ? { sloWindowMs: settings.window } : {}),
    ...(settings.driftEvery !== undefined ? { driftEveryMs: settings.driftEvery } : {}),
    ...(settings.pause === false ? { pauseOnCritical: false } : {}),
  });
}

/** The Monitor over the running supervisor (or none: then every deployment reads as not running). */
export async function monitorFor(context: FactoryContext, io: Io, settings: MonitorSettings): Promise<Monitor> {
  const info = await findSupervisor(context.home);
  const target = info ? new RemoteSupervisor(info) : new LocalSupervisor({ home: context.home });
  return buildMonitor(context, io, target, settings);
}

function sloText(slos: readonly SloResult[]): string {
  return slos.map((slo) => `${slo.name} ${slo.measured ?? '–'}${slo.breached ? ' ✗' : ' ✓'}`).join(', ');
}

interface MonitorOptions extends FactoryOptions {
  readonly once?: boolean;
  readonly interval: number;
  readonly window?: number;
  readonly driftEvery?: number;
  readonly webhook?: string;
  readonly pause?: boolean;
  readonly json?: boolean;
}

/** `monitor`, `status`, `metrics`, `drift`, `certify`, `resume`. */
export function registerMonitor(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(
    program
      .command('monitor')
      .description('run the Monitor agent: health, metrics, SLOs, alerts, drift and certification for every deployment')
      .option('--once', 'one look at every deployment, then exit')
      .option('--interval <duration>', 'time between looks', parseDuration, 30_000)
      .option('--window <duration>', 'the window SLOs are measured over (default 1h)', parseDuration)
      .option(
        '--drift-every <duration>',
        're-run the Schema agent this often (default 1h; 0 = only on a schema error)',
        parseDuration,
      )
      .option('--webhook <url>', 'POST alerts as JSON here too (default $CONNECTOR_FACTORY_ALERT_WEBHOOK)')
      .option('--no-pause', 'alert on a critical SLO breach without pausing the connector')
      .option('--json', 'with --once: print what it saw as JSON'),
  )
    .addHelpText(
      'after',
      '\n`connector-factory serve` runs it too. Alerts go to stdout (one line each) and the webhook.\n\nExample:\n  connector-factory monitor --once --json',
    )
    .action(async (options: MonitorOptions) => {
      await withFactory(options, async (context) => {
        const monitor = await monitorFor(context, io, options);
        if (options.once) {
          const reports = await monitor.tick();
          if (options.json) printJson(io, reports);
          else
            for (const r of reports)
              io.out(
                `${r.connectorId} (${r.deploymentId}): ${r.healthy ? 'healthy' : `unhealthy: ${r.reason}`}; ${sloText(r.slos)}; certification ${r.certification ?? '–'}${r.paused ? '; paused' : ''}`,
              );
          setExit(EXIT.ok);
          return;
        }
        await untilStopped((signal) => monitor.run(options.interval, signal));
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    program
      .command('status')
      .description('where each connector stands: health, SLOs, certification, last run, last error')
      .argument('[connector]', 'one connector id (or deployment id)')
      .option('--json', 'print it as JSON'),
  ).action(async (ref: string | undefined, options: FactoryOptions & { json?: boolean }) => {
    await withFactory(options, async (context) => {
      const rows = await connectorStatuses(context.store, ref);
      if (options.json) printJson(io, ref ? rows[0] : rows);
      else if (rows.length === 0) io.out('no connector is deployed');
      else
        io.out(
          table([
            ['CONNECTOR', 'VERSION', 'ENV', 'STATUS', 'HEALTH', 'SLOS', 'CERTIFICATION', 'LAST RUN', 'LAST ERROR'],
            ...rows.map((r) => [
              r.connectorId,
              r.version,
              r.environment,
              r.status,
              r.health,
              r.slos,
              r.certification ?? '–',
              r.lastRun ?? '–',
              r.lastError ?? '–',
            ]),
          ]),
        );
      setExit(EXIT.ok);
    });
  });

  withFactoryOptions(
    program
      .command('metrics')
      .description("a connector's ConnectorMetrics, as the Monitor last scraped them")
      .argument('<connector>', 'a connector id or deployment id')
      .option('--json', 'print them as JSON'),
  ).action(async (ref: string, options: FactoryOptions & { json?: boolean }) => {
    await withFactory(options, async (context) => {
      const record = await deploymentOf(context.store, ref);
      const snapshot = await context.store.monitor.latestMetrics(record.id);
      if (!snapshot) {
        io.err(
          `error: no metrics of ${record.connectorId} yet: the Monitor (\`connector-factory monitor\` or \`serve\`) scrapes them`,
        );
        setExit(EXIT.invalidInput);
        return;
      }
      if (options.json) printJson(io, { deploymentId: record.id, time: snapshot.time, ...snapshot.metrics });
      else {
        io.out(`${record.connectorId} ${record.version} (${record.id}), scraped ${snapshot.time}`);
        io.out(table(Object.entries(snapshot.metrics).map(([key, value]) => [`  ${key}`, String(value ?? '–')])));
      }
      setExit(EXIT.ok);
    });
  });

  withFactoryOptions(
    program
      .command('drift')
      .description("a connector's latest drift report (--check runs the Schema agent now)")
      .argument('<connector>', 'a connector id or deployment id')
      .option('--check', 're-run the Schema agent against the live source now')
      .option('--json', 'print the report as JSON'),
  ).action(async (ref: string, options: FactoryOptions & { check?: boolean; json?: boolean }) => {
    await withFactory(options, async (context) => {
      const record = await deploymentOf(context.store, ref);
      const report = options.check
        ? await (await monitorFor(context, io, {})).checkDrift(record)
        : (await context.store.drift.list({ deploymentId: record.id }))[0];
      if (!report) {
        io.out(`no drift report of ${record.connectorId} yet; \`connector-factory drift ${ref} --check\` makes one`);
        setExit(EXIT.ok);
        return;
      }
      if (options.json) printJson(io, report);
      else {
        io.out(
          `${report.connectorId}: ${report.classification.replace('_', '-')} drift at ${report.time} (${report.action})`,
        );
        for (const change of report.changes)
          io.out(
            `  ${change.breaking ? '✗' : '·'} ${String(change.entity)}${change.field ? `.${String(change.field)}` : ''}: ${String(change.change).replace(/_/g, ' ')} — ${String(change.why)}`,
          );
        if (report.proposedManifestPath) io.out(`proposed ${report.proposedVersion}: ${report.proposedManifestPath}`);
      }
      setExit(EXIT.ok);
    });
  });

  withFactoryOptions(
    program
      .command('certify')
      .description('the certification workflow: review (show the evidence), approve, reject, retry')
      .argument('<connector>', 'a connector id or deployment id')
      .argument('<action>', 'review, approve, reject or retry')
      .option('--reason <text>', 'why (reject)')
      .option('--json', 'print the result as JSON'),
  ).action(async (ref: string, action: string, options: FactoryOptions & { reason?: string; json?: boolean }) => {
    if (!['review', 'approve', 'reject', 'retry'].includes(action)) {
      throw new FactoryError('usage', `"${action}" is not a certification action: review, approve, reject or retry`);
    }
    await withFactory(options, async (context) => {
      const record = await deploymentOf(context.store, ref);
      const workflow = new CertificationWorkflow({
        store: context.store,
        audit: context.audit,
        riskOf: (a) => context.cars.riskOf(a),
      });
      const evidence = async () => ({ ...(await certificationEvidence(context.store, record.id)) });
      let result: unknown;
      if (action === 'review')
        result = {
          deploymentId: record.id,
          connectorId: record.connectorId,
          version: record.version,
          ...(await evidence()),
        };
      else if (action === 'approve') result = await workflow.approve(record, context.actor, await evidence());
      else if (action === 'reject') {
        if (!options.reason) throw new FactoryError('usage', 'reject needs --reason');
        result = await workflow.reject(record.id, context.actor, options.reason);
      } else result = await workflow.retry(record.id, context.actor);
      if (options.json) printJson(io, result);
      else if (action === 'review') io.out(JSON.stringify(result, null, 2));
      else {
        const state = action === 'approve' ? 'CERTIFIED' : action === 'reject' ? 'FAILED' : 'PENDING';
        io.out(`${record.connectorId} ${record.version}: ${state}`);
      }
      setExit(EXIT.ok);
    });
  });

  withFactoryOptions(
    program
      .command('resume')
      .description('start a paused connector again (after the drift or SLO breach that paused it is fixed)')
      .argument('<connector>', 'a connector id or deployment id')
      .option('--health-timeout <duration>', 'how long it has to become healthy', parseDuration)
      .option('--json', 'print the deployment record as JSON'),
  ).action(async (ref: string, options: FactoryOptions & { healthTimeout?: number; json?: boolean }) => {
    await withFactory(options, async (context) => {
      const resumed = await resumeDeployment(
        ref,
        { ...context, target: localTarget(context, options.state, io) },
        {
          ...(options.healthTimeout !== undefined ? { healthTimeoutMs: options.healthTimeout } : {}),
        },
      );
      if (options.json) printJson(io, resumed);
      else io.out(`resumed ${resumed.connectorId} ${resumed.version} (${resumed.id}): healthy`);
      setExit(EXIT.ok);
    });
  });
}

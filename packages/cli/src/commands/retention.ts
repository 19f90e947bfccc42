import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ConnectorManifest } from '@connector-factory/ir';
import {
  enforceManifestRetention,
  FactoryError,
  isRuntimeError,
  loadManifestFile,
  readPackageManifest,
  requireRole,
  RUNNING_STATUSES,
  type DeploymentRecord,
  type FactoryContext,
  type RetentionReport,
} from '@connector-factory/factory';
import { parseDuration } from '../duration.js';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';
import { formatLocatedProblem } from './validate.js';

interface RetentionOptions extends FactoryOptions {
  readonly dryRun?: boolean;
  readonly json?: boolean;
  readonly vacuumDelay?: number;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The manifests a `retention` argument names: a manifest file, a connector or deployment id, or every running connector. */
async function manifestsOf(
  context: FactoryContext,
  ref: string | undefined,
  io: Io,
): Promise<Array<{ manifest: ConnectorManifest; workingDir?: string }> | undefined> {
  if (ref !== undefined && (await stat(ref).catch(() => undefined))?.isFile()) {
    const loaded = await loadManifestFile(ref);
    if (!loaded.ok) {
      for (const problem of loaded.problems) io.err(formatLocatedProblem(problem));
      return undefined;
    }
    return [{ manifest: loaded.manifest }];
  }
  const store = context.store;
  if (ref !== undefined) {
    const deployment = (await store.deployments.get(ref)) ?? (await store.deployments.list({ connectorId: ref }))[0];
    if (!deployment) {
      throw new FactoryError(
        'not_found',
        `"${ref}" is neither a manifest file nor a deployed connector; see \`connector-factory deployments --all\``,
      );
    }
    return [
      { manifest: (await readPackageManifest(deployment.packageDir)).manifest, workingDir: deployment.workingDir },
    ];
  }
  const byConnector = new Map<string, DeploymentRecord>();
  for (const deployment of await store.deployments.list({ statuses: RUNNING_STATUSES })) {
    if (!byConnector.has(deployment.connectorId)) byConnector.set(deployment.connectorId, deployment);
  }
  const manifests: Array<{ manifest: ConnectorManifest; workingDir?: string }> = [];
  for (const deployment of byConnector.values()) {
    const { manifest } = await readPackageManifest(deployment.packageDir);
    manifests.push({ manifest, workingDir: deployment.workingDir });
  }
  return manifests;
}

/** One table's lines: what went (or would go). */
function describe(report: RetentionReport): string[] {
  const verb = report.dryRun ? 'would remove' : 'removed';
  const lines = [
    `  ${report.location} (${report.format}, rows dated by ${report.dateColumn} before ${report.cutoff}): ` +
      `${verb} ${plural(report.rowsExpired, 'row')}` +
      (report.committed ? ` in version ${report.tableVersion}` : ''),
  ];
  for (const file of report.filesRemoved)
    lines.push(`    ${file.path}: ${plural(file.rowsExpired, 'row')}, whole file`);
  for (const file of report.filesRewritten) {
    lines.push(
      `    ${file.path}: ${plural(file.rowsExpired, 'row')} out, ${plural(file.rowsKept, 'row')} kept in a rewritten file`,
    );
  }
  if (report.partitionsDropped.length > 0) {
    lines.push(`    partitions ${report.dryRun ? 'to drop' : 'dropped'}: ${report.partitionsDropped.join(', ')}`);
  }
  if (report.quarantine.files.length > 0) {
    lines.push(
      `    quarantine: ${plural(report.quarantine.files.length, 'file')} (${plural(report.quarantine.rows, 'row')}) ${report.dryRun ? 'to delete' : 'deleted'}`,
    );
  }
  if (report.format === 'delta') {
    const days = Math.round((report.vacuum.delayMs / 86_400_000) * 10) / 10;
    lines.push(
      `    vacuum (files removed over ${days} days ago): ${plural(report.vacuum.deleted.length, 'file')} ${report.dryRun ? 'to delete' : 'deleted'}, ` +
        `${plural(report.vacuum.waiting, 'file')} waiting`,
    );
  }
  return lines;
}

/** `connector-factory retention [connector]`: enforce governance.retentionDays on the lake (or say what would go). */
export function registerRetention(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(
    program
      .command('retention')
      .description('enforce governance.retentionDays: remove lake rows, quarantine files and removed files past it')
      .argument('[connector]', 'a manifest file, a connector id or a deployment id (default: every running connector)')
      .option('--dry-run', 'say what would go (tables, files, rows, partitions) without changing anything')
      .option(
        '--vacuum-delay <duration>',
        "Delta: how long removed files stay before they are deleted (default: the table's, else 7d)",
        parseDuration,
      )
      .option('--json', 'print the reports as JSON'),
  )
    .addHelpText(
      'after',
      '\nRows are dated by the incremental key when it is a date or datetime, else by _extracted_at. Each\n' +
        'enforcement is an `enforce_retention` audit receipt; the Monitor (`monitor`, `serve`) enforces every\n' +
        'running or paused connector once a day. See docs/retention.md.\n' +
        '\nExamples:\n  connector-factory retention connector_postgres_orders_v1 --dry-run\n' +
        '  connector-factory retention manifest.json --json',
    )
    .action(async (ref: string | undefined, options: RetentionOptions) => {
      await withFactory(options, async (context) => {
        const manifests = await manifestsOf(context, ref, io);
        if (manifests === undefined) {
          setExit(EXIT.invalidInput);
          return;
        }
        if (!options.dryRun) requireRole(context.actor, 'operator', 'enforce retention');
        const results: Array<{ connectorId: string; retentionDays: number; tables: RetentionReport[] }> = [];
        for (const { manifest, workingDir } of manifests) {
          let tables: RetentionReport[];
          try {
            tables = await enforceManifestRetention({
              manifest,
              audit: context.audit,
              riskOf: (action) => context.cars.riskOf(action),
              actor: context.actor.name,
              agent: 'cli',
              ...(workingDir !== undefined ? { workingDir } : {}),
              ...(options.dryRun ? { dryRun: true } : {}),
              ...(options.vacuumDelay !== undefined ? { vacuumDelayMs: options.vacuumDelay } : {}),
            });
          } catch (error) {
            if (isRuntimeError(error)) {
              io.err(`error: ${manifest.id}: ${error.message.split('\n')[0]}`);
              setExit(error.code === 'config' ? EXIT.invalidInput : EXIT.internal);
              return;
            }
            throw error;
          }
          results.push({ connectorId: manifest.id, retentionDays: manifest.governance.retentionDays, tables });
        }
        if (options.json) printJson(io, { dryRun: options.dryRun === true, connectors: results });
        else if (results.length === 0) io.out('no running connector: name a manifest file or a connector id');
        else {
          for (const result of results) {
            io.out(
              `${result.connectorId}: retention ${result.retentionDays} days${options.dryRun ? ' (dry run)' : ''}`,
            );
            for (const table of result.tables) for (const line of describe(table)) io.out(line);
          }
        }
        setExit(EXIT.ok);
      });
    });
}

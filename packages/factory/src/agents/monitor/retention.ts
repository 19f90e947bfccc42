import type { ConnectorManifest } from '@connector-factory/ir';
import type { RetentionReport } from '@connector-factory/runtime';
import { digestOf } from '../../audit/canonical-json.js';
import type { ReceiptInput, RiskLevel } from '../../records/index.js';

export type { RetentionReport };

/** The CARS action of a retention enforcement. */
export const RETENTION_ACTION = 'enforce_retention';

/** Where and how one connector's retention is enforced, and who answers for it in the audit log. */
export interface ManifestRetentionOptions {
  readonly manifest: ConnectorManifest;
  readonly audit: { record(input: ReceiptInput): Promise<unknown> };
  readonly riskOf: (action: string) => RiskLevel;
  /** Who acts: the CLI's actor, or `monitor` for the scheduled enforcement. */
  readonly actor: string;
  readonly agent: 'cli' | 'monitor';
  /** Report what would go, change nothing, record nothing. */
  readonly dryRun?: boolean;
  /** Where `${VAR}` references of the lake path and the S3 settings come from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: Date;
  /** The folder the connector runs in (a deployment's workingDir): relative lake paths resolve against it. */
  readonly workingDir?: string;
  /** Delta: how long removed files stay before they are deleted (default: the table's, else 7 days). */
  readonly vacuumDelayMs?: number;
}

// The runtime (DuckDB, the AWS SDK) loads on first use, as in runtime.ts.
const runtime = () => import('@connector-factory/runtime');

/** The receipt's facts about one table: counts and names, never row values. */
function tableFacts(report: RetentionReport, redact: (url: string) => string): Record<string, unknown> {
  return {
    location: redact(report.location),
    format: report.format,
    dateColumn: report.dateColumn,
    cutoff: report.cutoff,
    tableVersion: report.tableVersion,
    committed: report.committed,
    rowsExpired: report.rowsExpired,
    filesRemoved: report.filesRemoved.length,
    filesRewritten: report.filesRewritten.length,
    filesAdded: report.filesAdded.length,
    partitionsDropped: report.partitionsDropped,
    quarantineFiles: report.quarantine.files.length,
    quarantineRows: report.quarantine.rows,
    vacuumDeleted: report.vacuum.deleted.length,
    vacuumWaiting: report.vacuum.waiting,
  };
}

/**
 * Enforces a connector's governance.retentionDays on its lake tables (the runtime does the lake
 * work) and records the enforcement as an `enforce_retention` evidence receipt — success with what
 * went, or the failure's first line. A dry run records nothing.
 */
export async function enforceManifestRetention(options: ManifestRetentionOptions): Promise<RetentionReport[]> {
  const { manifest } = options;
  const { enforceConnectorRetention, redactUrl } = await runtime();
  const base = {
    action: RETENTION_ACTION,
    agent: options.agent,
    actor: options.actor,
    resource: manifest.id,
    riskLevel: options.riskOf(RETENTION_ACTION),
    inputs: { manifest: digestOf(manifest) },
  };
  let reports: RetentionReport[];
  try {
    reports = await enforceConnectorRetention({
      manifest,
      ...(options.env ? { env: options.env } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.now ? { now: options.now } : {}),
      ...(options.workingDir !== undefined ? { workingDir: options.workingDir } : {}),
      ...(options.vacuumDelayMs !== undefined ? { vacuumDelayMs: options.vacuumDelayMs } : {}),
    });
  } catch (error) {
    if (!options.dryRun) {
      await options.audit.record({
        ...base,
        outputs: {},
        result: 'failure',
        details: {
          retentionDays: manifest.governance.retentionDays,
          error: redactUrl((error as Error).message.split('\n')[0] ?? ''),
        },
      });
    }
    throw error;
  }
  if (!options.dryRun) {
    await options.audit.record({
      ...base,
      outputs: { report: digestOf(reports) },
      result: 'success',
      details: {
        retentionDays: manifest.governance.retentionDays,
        rowsExpired: reports.reduce((sum, r) => sum + r.rowsExpired, 0),
        tables: reports.map((r) => tableFacts(r, redactUrl)),
      },
    });
  }
  return reports;
}

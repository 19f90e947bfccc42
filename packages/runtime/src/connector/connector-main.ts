import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { formatProblem, validateManifest, type ConnectorManifest } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { runConnector } from './run-connector.js';

const USAGE = `usage: connector [--once] [--entity <name>] [--health-port <port>] [--state-dir <dir>] [--log-level <level>]

  --once               run one sync and exit (CDC: until caught up); without it, follow the manifest's schedule
  --entity <name>      the entity to sync (default: the first in manifest.json)
  --health-port <n>    serve /health, /ready and /metrics (default $PORT, else 8080; 0 = any free port)
  --state-dir <dir>    checkpoint folder (default $CF_STATE_DIR, else ./.connector-state)
  --log-level <level>  debug, info, warn or error (default info); logs are JSON lines on stderr

Credentials come from the environment variables manifest.json references.
Exit status: 0 ok, 1 configuration or input error, 2 usage error, 3 runtime failure,
6 the source refused or is unreachable (credentials, grants, down).`;

/** Exit statuses of a connector; the same numbers as the connector-factory CLI's. */
export const CONNECTOR_EXIT = { ok: 0, config: 1, usage: 2, failure: 3, source: 6 } as const;

/** The exit status for a failure: 1 for a configuration error, 6 for a source error, else 3. */
export function exitStatusOf(error: unknown): number {
  if (!(error instanceof RuntimeError)) return CONNECTOR_EXIT.failure;
  if (error.code === 'config') return CONNECTOR_EXIT.config;
  if (error.code.startsWith('source_')) return CONNECTOR_EXIT.source;
  return CONNECTOR_EXIT.failure;
}

/** Loads and validates a manifest file; problems become one config error listing them. */
export async function loadManifest(path: string): Promise<ConnectorManifest> {
  let document: unknown;
  try {
    document = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new RuntimeError('config', `${path}: ${(error as Error).message}`);
  }
  const result = validateManifest(document);
  if (!result.ok) {
    const errors = result.problems.filter((p) => p.severity === 'error').map(formatProblem);
    throw new RuntimeError('config', `${path} is not a valid manifest: ${errors.join('; ')}`);
  }
  return result.manifest;
}

/**
 * The `main` of a generated connector: parses its flags, runs it, stops cleanly on SIGINT/SIGTERM,
 * and turns any failure into one line on stderr and an exit status.
 */
export async function connectorMain(argv: readonly string[], manifestPath: string): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: [...argv],
      options: {
        once: { type: 'boolean' },
        entity: { type: 'string' },
        'health-port': { type: 'string' },
        'state-dir': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = flags['health-port'] ?? process.env.PORT ?? '8080';
  const level = flags['log-level'] ?? 'info';
  if (!/^\d+$/.test(port) || !['debug', 'info', 'warn', 'error'].includes(level)) {
    process.stderr.write(`error: --health-port takes a port number and --log-level one of debug, info, warn, error\n`);
    return 2;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const manifest = await loadManifest(manifestPath);
    const summary = await runConnector({
      manifest,
      once: flags.once === true,
      healthPort: Number(port),
      logLevel: level as 'debug' | 'info' | 'warn' | 'error',
      signal: controller.signal,
      ...(flags.entity ? { entity: flags.entity } : {}),
      ...(flags['state-dir'] ? { stateDir: flags['state-dir'] } : {}),
    });
    if (summary) process.stdout.write(`${JSON.stringify({ ok: true, ...summary })}\n`);
    return 0;
  } catch (error) {
    if (controller.signal.aborted) return 0;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message.split('\n')[0]}\n`);
    return exitStatusOf(error);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

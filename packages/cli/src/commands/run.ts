import type { Command } from 'commander';
import {
  declaredEnv,
  FactoryError,
  factoryHome,
  isRuntimeError,
  loadManifestFile,
  runConnector,
  withManifestSecrets,
} from '@connector-factory/factory';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';
import { formatLocatedProblem } from './validate.js';

interface RunOptions {
  readonly once?: boolean;
  readonly entity?: string;
  readonly healthPort?: string;
  readonly stateDir?: string;
  readonly json?: boolean;
}

/** `connector-factory run <manifest>`: runs a connector straight from its manifest, without generating a package. */
export function registerRun(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('run')
    .description('run a connector from its manifest: one sync with --once, else on its schedule (Ctrl-C stops it)')
    .argument('<manifest>', 'manifest file (JSON or YAML)')
    .option('--once', 'run one sync and exit (CDC: until caught up)')
    .option('--entity <name>', 'the entity to sync (default: the first)')
    .option('--health-port <port>', 'serve /health, /ready and /metrics on this port (0 = any free port)')
    .option('--state-dir <dir>', 'checkpoint folder (default $CF_STATE_DIR, else ./.connector-state)')
    .option('--json', 'print the run summary as JSON')
    .addHelpText(
      'after',
      '\nCredentials come from the environment variables the manifest references, else from the secret store\n' +
        '(`connector-factory secrets`); logs are JSON lines on stderr.\n' +
        '\nExample:\n  POSTGRES_CONNECTION_STRING=postgresql://… connector-factory run examples/postgres-orders-cdc.json --once',
    )
    .action(async (file: string, options: RunOptions) => {
      const loaded = await loadManifestFile(file);
      if (!loaded.ok) {
        for (const problem of loaded.problems) io.err(formatLocatedProblem(problem));
        setExit(EXIT.invalidInput);
        return;
      }
      if (options.healthPort !== undefined && !/^\d+$/.test(options.healthPort)) {
        throw new FactoryError('usage', `--health-port takes a port number, not "${options.healthPort}"`);
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      try {
        const env = await withManifestSecrets(loaded.manifest, process.env, factoryHome());
        // Every variable it reads, or one line naming each missing one and how to provide it.
        declaredEnv(loaded.manifest, env);
        const summary = await runConnector({
          manifest: loaded.manifest,
          env,
          once: options.once === true,
          signal: controller.signal,
          ...(options.entity ? { entity: options.entity } : {}),
          ...(options.healthPort !== undefined ? { healthPort: Number(options.healthPort) } : {}),
          ...(options.stateDir ? { stateDir: options.stateDir } : {}),
        });
        if (options.json) printJson(io, summary ?? {});
        else if (summary) {
          io.out(
            `${loaded.manifest.id}: ${summary.batches} batch(es), ${summary.rowsRead} rows read, ${summary.rowsWritten} written, ` +
              `${summary.rowsQuarantined} quarantined, checkpoint ${summary.from} → ${summary.to}`,
          );
        }
        setExit(EXIT.ok);
      } catch (error) {
        if (isRuntimeError(error)) {
          io.err(`error: ${error.message}`);
          setExit(
            error.code === 'config'
              ? EXIT.invalidInput
              : error.code.startsWith('source_')
                ? EXIT.source
                : EXIT.internal,
          );
          return;
        }
        throw error;
      } finally {
        process.off('SIGINT', stop);
      }
    });
}

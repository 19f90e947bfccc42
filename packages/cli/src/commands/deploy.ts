import { InvalidArgumentError, type Command } from 'commander';
import {
  deployConnector,
  ensureSupervisor,
  findDeployments,
  findSupervisor,
  LocalSupervisor,
  readPackageManifest,
  RemoteSupervisor,
  resolveDeclaredEnv,
  undeployConnector,
  type DeploymentRecord,
  type DeployTarget,
  type Environment,
  type FactoryContext,
} from '@connector-factory/factory';
import { parseDuration } from '../duration.js';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';
import { stepPrinter } from '../progress.js';

const ENVIRONMENTS: readonly Environment[] = ['dev', 'staging', 'prod'];

export function parseEnvironment(text: string): Environment {
  if (!(ENVIRONMENTS as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`"${text}" is not an environment: dev, staging or prod`);
  }
  return text as Environment;
}

function parseTarget(text: string): 'local' {
  if (text === 'local') return text;
  if (text === 'kubernetes')
    throw new InvalidArgumentError('the kubernetes target is not available yet: deploy with --target local');
  throw new InvalidArgumentError(`"${text}" is not a deploy target: local`);
}

/**
 * The local target: the running `serve`, or one started in the background — on first use, so a
 * command that fails its checks first starts nothing.
 */
export function localTarget(context: FactoryContext, state: string | undefined, io: Io): DeployTarget {
  let supervisor: Promise<RemoteSupervisor> | undefined;
  const get = () =>
    (supervisor ??= ensureSupervisor(context.home, {
      ...(state !== undefined ? { state } : {}),
      onStart: (pid, log) =>
        io.err(
          `started the local supervisor in the background (pid ${pid}, log ${log}); \`connector-factory serve --stop\` stops it`,
        ),
    }));
  return {
    name: 'local',
    start: async (spec) => (await get()).start(spec),
    stop: async (id) => (await get()).stop(id),
    status: async (id) => (await get()).status(id),
    list: async () => (await get()).list(),
    logs: async (id, lines) => (await get()).logs(id, lines),
  };
}

interface DeployOptions extends FactoryOptions {
  readonly env: Environment;
  readonly target: 'local';
  readonly healthTimeout?: number;
  readonly waitApproval?: number;
  readonly certifyAfter?: number;
  readonly json?: boolean;
}

interface ListOptions extends FactoryOptions {
  readonly all?: boolean;
  readonly json?: boolean;
}

function row(record: DeploymentRecord, live: string): string[] {
  return [
    record.id,
    record.connectorId,
    record.version,
    record.environment,
    record.status,
    live,
    record.healthUrl ?? '-',
  ];
}

/** `deploy`, `undeploy`, `deployments` and `logs`. */
export function registerDeploy(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(
    program
      .command('deploy')
      .description('build a connector package, run its tests in a sandbox, pass the CARS gate and run it')
      .argument('<package>', 'the connector package folder (from `generate` or `create`)')
      .requiredOption('--env <environment>', 'dev, staging or prod (prod needs an approval)', parseEnvironment)
      .option('--target <target>', 'where it runs: local', parseTarget, 'local')
      .option('--health-timeout <duration>', 'how long it has to become healthy before a rollback', parseDuration)
      .option('--wait-approval <duration>', 'wait this long for a needed approval instead of stopping', parseDuration)
      .option(
        '--certify-after <duration>',
        'healthy time without an SLO breach before certification review (default 24h)',
        parseDuration,
      )
      .option('--json', 'print the DeploymentReceipt as JSON'),
  )
    .addHelpText(
      'after',
      '\nThe variables the manifest references are read from this environment, else from the secret store\n' +
        '(`connector-factory secrets`), and handed to the connector; the deployment records their names only.\n' +
        'Steps and timings go to stderr.\n' +
        'Exit status: 0 healthy, 1 invalid package or missing variable, 3 build, tests or health failed (rolled back),\n' +
        '4 not allowed for this actor, 5 waiting for an approval.\n' +
        '\nExamples:\n  connector-factory deploy ./connectors/connector-postgres-orders-v1 --env dev\n' +
        '  connector-factory deploy ./connectors/connector-postgres-orders-v1 --env prod --wait-approval 30m',
    )
    .action(async (packageDir: string, options: DeployOptions) => {
      await withFactory(options, async (context) => {
        const target = localTarget(context, options.state, io);
        // Checked before anything is printed or started: a missing variable is one line and exit 1.
        await resolveDeclaredEnv((await readPackageManifest(packageDir)).manifest, process.env, context.home);
        if (!options.json)
          io.err(`deploying ${packageDir} to ${options.env} (${context.actor.name}, ${context.actor.role})`);
        const receipt = await deployConnector(
          packageDir,
          { ...context, target },
          {
            environment: options.env,
            progress: stepPrinter(io),
            ...(options.healthTimeout !== undefined ? { healthTimeoutMs: options.healthTimeout } : {}),
            ...(options.waitApproval !== undefined ? { approvalTimeoutMs: options.waitApproval } : {}),
            ...(options.certifyAfter !== undefined ? { certifyAfterMs: options.certifyAfter } : {}),
          },
        );
        if (options.json) printJson(io, receipt);
        else {
          io.out(
            `${receipt.connectorId} ${receipt.version} is healthy in ${receipt.environment} as ${receipt.deploymentId}`,
          );
          io.out(`  instance  ${receipt.instanceId}`);
          io.out(`  health    ${receipt.healthUrl}`);
          io.out(`  metrics   ${receipt.metricsUrl}`);
          if (receipt.previousDeploymentId) io.out(`  replaced  ${receipt.previousDeploymentId}`);
        }
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    program
      .command('undeploy')
      .description('stop a connector (every deployment of it, or one deployment id) and record it stopped')
      .argument('<connector-or-deployment>', 'a connector id or a deployment id')
      .option('--env <environment>', 'only in this environment', parseEnvironment)
      .option('--json', 'print the stopped deployments as JSON'),
  )
    .addHelpText(
      'after',
      '\nA CDC connector keeps its replication slot; drop it with `connector-factory replication drop`.\n' +
        '\nExample:\n  connector-factory undeploy connector_postgres_orders_v1 --env dev',
    )
    .action(async (ref: string, options: FactoryOptions & { env?: Environment; json?: boolean }) => {
      await withFactory(options, async (context) => {
        const info = await findSupervisor(context.home);
        // With no supervisor running nothing runs locally: the records only need to say it is stopped.
        const target = info ? new RemoteSupervisor(info) : new LocalSupervisor({ home: context.home });
        const stopped = await undeployConnector(
          ref,
          { ...context, target },
          options.env ? { environment: options.env } : {},
        );
        if (options.json) printJson(io, stopped);
        else
          for (const record of stopped)
            io.out(`stopped ${record.id} (${record.connectorId} ${record.version}, ${record.environment})`);
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    program
      .command('deployments')
      .description('list deployments: status in the store, and what the local supervisor runs')
      .option('--all', 'include stopped, failed and superseded ones')
      .option('--json', 'print them as JSON'),
  ).action(async (options: ListOptions) => {
    await withFactory(options, async (context) => {
      const records = await context.store.deployments.list(
        options.all
          ? {}
          : { statuses: ['building', 'awaiting_approval', 'starting', 'healthy', 'unhealthy', 'paused'] },
      );
      const info = await findSupervisor(context.home);
      const live = new Map((info ? await new RemoteSupervisor(info).list() : []).map((s) => [s.deploymentId, s]));
      if (options.json) {
        printJson(
          io,
          records.map((record) => ({ ...record, instance: live.get(record.id) ?? null })),
        );
      } else if (records.length === 0) {
        io.out('no deployments; `connector-factory create` or `deploy` makes one');
      } else {
        const liveText = (id: string) => {
          const status = live.get(id);
          return status
            ? `${status.state}${status.restarts > 0 ? `, ${status.restarts} restarts` : ''}`
            : info
              ? 'not running'
              : 'no supervisor';
        };
        io.out(
          table([
            ['DEPLOYMENT', 'CONNECTOR', 'VERSION', 'ENV', 'STATUS', 'PROCESS', 'HEALTH'],
            ...records.map((r) => row(r, liveText(r.id))),
          ]),
        );
      }
      setExit(EXIT.ok);
    });
  });

  withFactoryOptions(
    program
      .command('logs')
      .description('the last lines a deployed connector logged')
      .argument('<connector-or-deployment>', 'a connector id or a deployment id')
      .option('--lines <n>', 'how many (default 50)', (text) => {
        if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError(`"${text}" is not a positive number`);
        return Number(text);
      })
      .option('--json', 'print the lines as one JSON array (each a parsed JSON log record, or its text)'),
  ).action(async (ref: string, options: FactoryOptions & { lines?: number; json?: boolean }) => {
    await withFactory(options, async (context) => {
      const [record] = await findDeployments(context, ref);
      if (!record) {
        io.err(`error: nothing of ${ref} is deployed; see \`connector-factory deployments\``);
        setExit(EXIT.invalidInput);
        return;
      }
      const info = await findSupervisor(context.home);
      if (!info) {
        io.err(`error: no local supervisor runs; its log file is ${context.home}/logs/${record.connectorId}.log`);
        setExit(EXIT.invalidInput);
        return;
      }
      const lines = await new RemoteSupervisor(info).logs(record.id, options.lines ?? 50);
      if (options.json) {
        printJson(
          io,
          lines.map((line) => {
            try {
              return JSON.parse(line) as unknown;
            } catch {
              return line;
            }
          }),
        );
      } else for (const line of lines) io.out(line);
      setExit(EXIT.ok);
    });
  });
}

import { createInterface } from 'node:readline/promises';
import { type Command } from 'commander';
import { LAKE_FORMATS, type LakeFormat } from '@connector-factory/ir';
import {
  createConnector,
  FactoryError,
  loadProviderRegistry,
  maskDatabaseUrls,
  type EntityQuestion,
  type Environment,
} from '@connector-factory/factory';
import { parseDuration } from '../duration.js';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';
import { stepPrinter } from '../progress.js';
import { localTarget, parseEnvironment } from './deploy.js';

interface CreateOptions extends FactoryOptions {
  readonly connection?: string;
  readonly lake?: string;
  readonly format?: LakeFormat;
  readonly env: Environment;
  readonly out?: string;
  readonly force?: boolean;
  readonly yes?: boolean;
  readonly healthTimeout?: number;
  readonly waitApproval?: number;
  readonly certifyAfter?: number;
  readonly json?: boolean;
}

function parseFormat(text: string): LakeFormat {
  if (!(LAKE_FORMATS as readonly string[]).includes(text)) {
    throw new FactoryError('usage', `--format takes ${LAKE_FORMATS.join(', ')}, not "${text}"`);
  }
  return text as LakeFormat;
}

/** Asks a yes/no question on the terminal (Enter means yes). */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [Y/n] `)).trim().toLowerCase();
    return answer === '' || answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

/** Asks on the terminal which table is meant: a number from the list or a name; Enter gives up. */
async function chooseTable(io: Io, question: EntityQuestion): Promise<string | undefined> {
  io.err(`${question.reason}; which table?`);
  const shown = question.tables.slice(0, 60);
  shown.forEach((table, index) => io.err(`  ${String(index + 1).padStart(3)}  ${table}`));
  if (question.tables.length > shown.length)
    io.err(`  … and ${question.tables.length - shown.length} more (type the name)`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question('table (number or name; Enter stops) ')).trim();
    if (answer === '') return undefined;
    const number = Number(answer);
    if (Number.isInteger(number) && number >= 1 && number <= shown.length) return shown[number - 1];
    return (
      question.tables.find((table) => table === answer) ??
      question.tables.find((table) => table.toLowerCase() === answer.toLowerCase())
    );
  } finally {
    rl.close();
  }
}

/** `connector-factory create "<description>"`: the whole orchestra, sentence to running connector. */
export function registerCreate(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(
    program
      .command('create')
      .description('one sentence to a running connector: discover, introspect, generate, build, test, deploy')
      .argument('<description...>', 'what to connect, e.g. "Stream changes from orders table in Postgres"')
      .option(
        '--connection <url>',
        'the source: an env-var reference such as ${PG_URL}, or a URL (kept encrypted in the secret store)',
      )
      .option('--lake <path>', 'where the table lands (default ./lake/<provider>/<entity>/)')
      .option('--format <format>', `lake format: ${LAKE_FORMATS.join(', ')}`, parseFormat)
      .option('--env <environment>', 'dev, staging or prod', parseEnvironment, 'dev')
      .option('--out <dir>', 'where the package goes (default ./connectors)')
      .option('--force', 'replace a package folder that exists')
      .option('--yes', 'no questions (needed without a terminal); a needed approval still stops the run')
      .option('--health-timeout <duration>', 'how long it has to become healthy', parseDuration)
      .option('--wait-approval <duration>', 'wait this long for a needed approval instead of stopping', parseDuration)
      .option(
        '--certify-after <duration>',
        'healthy time without an SLO breach before certification review (default 24h)',
        parseDuration,
      )
      .option('--json', 'print one JSON summary (manifest, package, deployment id, health URL, lake table)'),
  )
    .addHelpText(
      'after',
      '\nA literal --connection URL is kept in the secret store (`connector-factory secrets list`) as\n' +
        'POSTGRES_<DATABASE>_CONNECTION_STRING (MYSQL_… for MySQL; _2, _3 … when that name holds another URL);\n' +
        'the manifest references only ${NAME}. A variable set in the environment wins over the store.\n' +
        '\nSteps and timings go to stderr; a CARS gate that needs an approval stops the run and prints the\n' +
        'command that continues (exit 5).\n' +
        '\nExample:\n  connector-factory create "Stream changes from orders table in Postgres" --connection \'${PG_URL}\' \\\n' +
        '    --lake ./lake --env dev --yes --json',
    )
    .action(async (words: string[], options: CreateOptions) => {
      const description = words.join(' ');
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
      if (!options.yes && !interactive) {
        throw new FactoryError('usage', 'create asks before it deploys: pass --yes when it runs without a terminal');
      }
      const registry = await loadProviderRegistry();
      await withFactory(options, async (context) => {
        const target = localTarget(context, options.state, io);
        io.err(`creating a connector for "${maskDatabaseUrls(description)}" (${context.actor.name}, ${options.env})`);
        try {
          const summary = await createConnector(
            {
              description,
              environment: options.env,
              registry,
              progress: stepPrinter(io),
              ...(options.connection !== undefined ? { connection: options.connection } : {}),
              ...(options.lake !== undefined ? { lake: options.lake } : {}),
              ...(options.format !== undefined ? { format: options.format } : {}),
              ...(options.out !== undefined ? { outDir: options.out } : {}),
              ...(options.force ? { force: true } : {}),
              ...(options.healthTimeout !== undefined ? { healthTimeoutMs: options.healthTimeout } : {}),
              ...(options.waitApproval !== undefined ? { approvalTimeoutMs: options.waitApproval } : {}),
              ...(options.certifyAfter !== undefined ? { certifyAfterMs: options.certifyAfter } : {}),
              ...(options.yes ? {} : { confirmDeploy: (question: string) => confirm(question) }),
              ...(options.yes || !interactive
                ? {}
                : { chooseTable: (question: EntityQuestion) => chooseTable(io, question) }),
            },
            { ...context, target },
          );
          for (const warning of summary.warnings) io.err(`warning: ${warning}`);
          if (options.json) {
            const { deployment, steps, ...rest } = summary;
            printJson(io, {
              ...rest,
              instanceId: deployment.instanceId,
              tests: { pass: deployment.tests.pass, fail: deployment.tests.fail, skipped: deployment.tests.skipped },
              steps,
            });
          } else {
            io.out(
              `${summary.connectorId} ${summary.version} runs in ${summary.environment} as ${summary.deploymentId}`,
            );
            io.out(`  manifest  ${summary.manifestPath}`);
            io.out(`  package   ${summary.packagePath}`);
            io.out(`  lake      ${summary.lakeTablePath}`);
            io.out(`  health    ${summary.healthUrl}`);
            io.out(`  metrics   ${summary.metricsUrl}`);
            io.out(
              'next: `connector-factory deployments` lists it; `connector-factory logs ' +
                summary.connectorId +
                '` shows its log',
            );
          }
          setExit(EXIT.ok);
        } catch (error) {
          if (error instanceof FactoryError && error.code === 'approval_required') {
            io.err('stopped at the CARS gate: the package is built and tested; once approved, continue with');
            io.err(`  connector-factory deploy <package under ${options.out ?? './connectors'}> --env ${options.env}`);
          }
          throw error;
        }
      });
    });
}

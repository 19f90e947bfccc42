import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { FactoryError, isSourceError } from '@connector-factory/factory';
import { registerApprovals } from './commands/approvals.js';
import { registerAudit } from './commands/audit.js';
import { registerCreate } from './commands/create.js';
import { registerDecrypt } from './commands/decrypt.js';
import { registerDemo } from './commands/demo.js';
import { registerDeploy } from './commands/deploy.js';
import { registerDiscover } from './commands/discover.js';
import { registerGenerate } from './commands/generate.js';
import { registerMonitor } from './commands/monitor.js';
import { registerProviders } from './commands/providers.js';
import { registerReplication } from './commands/replication.js';
import { registerRetention } from './commands/retention.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerSecrets } from './commands/secrets.js';
import { registerServe } from './commands/serve.js';
import { registerValidate } from './commands/validate.js';
import { EXIT, processIo, type ExitCode, type Io } from './io.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

function exitFor(error: FactoryError): ExitCode {
  if (error.code === 'invalid_input' || error.code === 'not_found') return EXIT.invalidInput;
  if (error.code === 'usage') return EXIT.usage;
  if (error.code === 'forbidden') return EXIT.forbidden;
  if (error.code === 'approval_required') return EXIT.pending;
  if (isSourceError(error)) return EXIT.source;
  if (error.code === 'environment') return EXIT.environment;
  return EXIT.internal;
}

/** Runs the CLI with these arguments and returns its exit status; never calls process.exit. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<ExitCode> {
  let exit: ExitCode = EXIT.ok;
  const setExit = (code: ExitCode) => {
    exit = code;
  };
  const program = new Command('connector-factory')
    .description('Turn one sentence into a running, monitored, certified data-lake connector.')
    .version(version, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText(
      'after',
      '\nExit status: 0 ok, 1 invalid input, 2 usage error, 3 internal error, 4 forbidden by policy,\n' +
        '5 waiting for an approval (or refused one), 6 the source database refused (unreachable, wrong\n' +
        'credentials or missing privileges; the last line names the cause), 7 this machine cannot run it\n' +
        "(the demo's embedded database does not start).\n" +
        'Run `connector-factory <command> --help` for a command.',
    );
  registerValidate(program, io, setExit);
  registerProviders(program, io, setExit);
  registerDiscover(program, io, setExit);
  registerSchema(program, io, setExit);
  registerGenerate(program, io, setExit);
  registerCreate(program, io, setExit);
  registerDeploy(program, io, setExit);
  registerServe(program, io, setExit);
  registerDemo(program, io, setExit);
  registerMonitor(program, io, setExit);
  registerRun(program, io, setExit);
  registerDecrypt(program, io, setExit);
  registerReplication(program, io, setExit);
  registerRetention(program, io, setExit);
  registerApprovals(program, io, setExit);
  registerAudit(program, io, setExit);
  registerSecrets(program, io, setExit);
  // Subcommands inherit exitOverride/configureOutput when created; no command at all is a usage error.
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exit;
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
      return ok ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof FactoryError) {
      io.err(`error: ${error.message}`);
      for (const detail of error.details) io.err(`  ${detail}`);
      return exitFor(error);
    }
    io.err(`internal error: ${(error as Error).stack ?? String(error)}`);
    io.err('This is a bug in connector-factory; please report it with the command you ran.');
    return EXIT.internal;
  }
}

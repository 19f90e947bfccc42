import type { Command } from 'commander';
import { findSupervisor, serveSupervisor } from '@connector-factory/factory';
import { parseDuration } from '../duration.js';
import { untilStopped } from '../stop-signal.js';
import { buildMonitor } from './monitor.js';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';
import { setTimeout as delay } from 'node:timers/promises';

interface ServeOptions extends FactoryOptions {
  readonly monitorInterval: number;
  readonly webhook?: string;
  readonly stop?: boolean;
  readonly status?: boolean;
  readonly json?: boolean;
}

/** `connector-factory serve`: the local supervisor in the foreground (Ctrl-C stops it and its connectors). */
export function registerServe(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(
    program
      .command('serve')
      .description('run the local supervisor: keeps deployed connectors running, restarts them, serves their health')
      .option(
        '--monitor-interval <duration>',
        'how often the Monitor agent looks at each connector (0 = no monitor)',
        parseDuration,
        30_000,
      )
      .option('--webhook <url>', 'POST alerts as JSON here too (default $CONNECTOR_FACTORY_ALERT_WEBHOOK)')
      .option('--status', 'say whether a supervisor runs, and where')
      .option('--stop', 'stop the running supervisor (and the connectors it runs)')
      .option('--json', 'with --status: print it as JSON'),
  )
    .addHelpText(
      'after',
      '\nOn start it brings back every local deployment that should run, with the variables of this environment.\n' +
        '`deploy` starts one in the background when none runs.\n' +
        '\nExamples:\n  connector-factory serve\n  connector-factory serve --status\n  connector-factory serve --stop',
    )
    .action(async (options: ServeOptions) => {
      await withFactory(options, async (context) => {
        const running = await findSupervisor(context.home);
        if (options.status) {
          if (options.json)
            printJson(
              io,
              running
                ? { running: true, pid: running.pid, url: running.url, startedAt: running.startedAt }
                : { running: false },
            );
          else
            io.out(
              running
                ? `the local supervisor runs (pid ${running.pid}, ${running.url}, since ${running.startedAt})`
                : 'no local supervisor runs',
            );
          setExit(EXIT.ok);
          return;
        }
        if (options.stop) {
          if (!running) {
            io.out('no local supervisor runs');
          } else {
            process.kill(running.pid, 'SIGTERM');
            const deadline = Date.now() + 30_000;
            while (Date.now() < deadline && (await findSupervisor(context.home))) await delay(200);
            io.out(`stopped the local supervisor (pid ${running.pid})`);
          }
          setExit(EXIT.ok);
          return;
        }
        if (running) {
          io.err(
            `error: a local supervisor already runs (pid ${running.pid}); stop it with \`connector-factory serve --stop\``,
          );
          setExit(EXIT.invalidInput);
          return;
        }
        await untilStopped((signal) =>
          serveSupervisor({
            home: context.home,
            store: context.store,
            signal,
            log: (line) => io.err(`${new Date().toISOString()} ${line}`),
            ...(options.monitorInterval > 0
              ? {
                  alongside: (target, signal) =>
                    buildMonitor(context, io, target, options).run(options.monitorInterval, signal),
                }
              : {}),
          }),
        );
        setExit(EXIT.ok);
      });
    });
}

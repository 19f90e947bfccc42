import type { Command } from 'commander';
import { loadProviderRegistry, runDemo } from '@connector-factory/factory';
import { parseDuration } from '../duration.js';
import { untilStopped } from '../stop-signal.js';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, type ExitCode, type Io } from '../io.js';
import { stepPrinter } from '../progress.js';

interface DemoOptions extends FactoryOptions {
  readonly lake?: string;
  readonly duration?: number;
}

/** `connector-factory demo`: the main job on embedded defaults, until Ctrl-C. */
export function registerDemo(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(
    program
      .command('demo')
      .description(
        'the main job on embedded defaults: PostgreSQL with changing orders → CDC connector → Delta in ./lake',
      )
      .option('--lake <dir>', 'the lake folder (default ./lake)')
      .option('--duration <duration>', 'stop by itself after this long (default: run until Ctrl-C)', parseDuration),
  )
    .addHelpText(
      'after',
      '\nStarts an embedded PostgreSQL with a sample orders table and a stream of changes, runs `create` for\n' +
        '"Stream changes from orders table in Postgres", deploys it locally and prints the lake catching up,\n' +
        'its health and metrics. Ctrl-C stops everything; the lake stays.\n' +
        '\nExample:\n  connector-factory demo',
    )
    .action(async (options: DemoOptions) => {
      const registry = await loadProviderRegistry();
      await untilStopped(async (stopped) => {
        // A plain timer, held until the demo ends: Node 20 may collect an AbortSignal.timeout() that only
        // AbortSignal.any() refers to, and then the demo never stops by itself.
        const controller = new AbortController();
        stopped.addEventListener('abort', () => controller.abort(), { once: true });
        const timer =
          options.duration !== undefined ? setTimeout(() => controller.abort(), options.duration) : undefined;
        try {
          await withFactory(options, (context) =>
            runDemo(
              {
                registry,
                signal: controller.signal,
                print: (line) => io.out(line),
                progress: stepPrinter(io),
                ...(options.lake !== undefined ? { lake: options.lake } : {}),
              },
              context,
            ),
          );
        } finally {
          clearTimeout(timer);
        }
      });
      setExit(EXIT.ok);
    });
}

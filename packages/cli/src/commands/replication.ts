import type { Command } from 'commander';
import { dropConnectorReplication, isRuntimeError, loadManifestFile } from '@connector-factory/factory';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';
import { formatLocatedProblem } from './validate.js';

/** `connector-factory replication drop <manifest>`: removes a CDC connector's slot and publication. */
export function registerReplication(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const replication = program
    .command('replication')
    .description("manage a CDC connector's replication slot and publication");
  replication
    .command('drop')
    .description(
      'drop the slot and publication of a CDC connector (when the connector is removed), so WAL is no longer held',
    )
    .argument('<manifest>', 'the connector manifest')
    .option('--json', 'print what was dropped as JSON')
    .addHelpText(
      'after',
      '\nThe connection comes from the environment variable the manifest references. Safe to repeat.',
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const loaded = await loadManifestFile(file);
      if (!loaded.ok) {
        for (const problem of loaded.problems) io.err(formatLocatedProblem(problem));
        setExit(EXIT.invalidInput);
        return;
      }
      try {
        const dropped = await dropConnectorReplication(loaded.manifest);
        if (options.json) printJson(io, dropped);
        else io.out(`dropped slot ${dropped.slots.join(', ')} and publication ${dropped.publication}`);
        setExit(EXIT.ok);
      } catch (error) {
        if (isRuntimeError(error)) {
          io.err(`error: ${error.message}`);
          setExit(error.code === 'config' ? EXIT.invalidInput : EXIT.internal);
          return;
        }
        throw error;
      }
    });
}

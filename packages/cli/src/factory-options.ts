import type { Command } from 'commander';
import { openFactoryContext, type FactoryContext } from '@connector-factory/factory';

/** The options every command that touches factory state takes. */
export interface FactoryOptions {
  readonly actor?: string;
  readonly state?: string;
  readonly policy?: string;
}

/** Adds --actor, --state and --policy to a command. */
export function withFactoryOptions(command: Command): Command {
  return command
    .option('--actor <name>', 'who acts (default $CONNECTOR_FACTORY_ACTOR, else the OS user)')
    .option(
      '--state <location>',
      'state store: a SQLite file or postgres:// URL (default $CONNECTOR_FACTORY_STATE, else .connector-factory/state.db)',
    )
    .option(
      '--policy <file>',
      'CARS policy file (default $CONNECTOR_FACTORY_POLICY, else .connector-factory/policy.yaml)',
    );
}

/** Opens the factory for the length of `work` and closes it after, whatever happens. */
export async function withFactory<T>(
  options: FactoryOptions,
  work: (context: FactoryContext) => Promise<T>,
): Promise<T> {
  const context = await openFactoryContext({
    ...(options.actor !== undefined ? { actor: options.actor } : {}),
    ...(options.state !== undefined ? { state: options.state } : {}),
    ...(options.policy !== undefined ? { policy: options.policy } : {}),
  });
  try {
    return await work(context);
  } finally {
    await context.close();
  }
}

import type { Command } from 'commander';
import { openFactoryContext, requireRole, type FactoryContext } from '@connector-factory/factory';

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

/** What an audited command did, for its evidence receipt. */
export interface ActionOutcome {
  readonly resource: string;
  readonly inputs: Record<string, string>;
  readonly outputs: Record<string, string>;
  readonly details?: Record<string, unknown>;
}

/**
 * Runs one agent's command as an audited action: the actor needs the operator role, and the result —
 * success with the digests `work` returns, or the failure's first line — becomes an evidence receipt
 * with the action's CARS risk level.
 */
export async function audited(
  options: FactoryOptions,
  action: { readonly action: string; readonly agent: string; readonly what: string },
  work: () => Promise<ActionOutcome>,
): Promise<void> {
  await withFactory(options, async (context) => {
    requireRole(context.actor, 'operator', action.what);
    const base = {
      action: action.action,
      agent: action.agent,
      actor: context.actor.name,
      riskLevel: context.cars.riskOf(action.action),
    };
    let outcome: ActionOutcome;
    try {
      outcome = await work();
    } catch (error) {
      await context.audit.record({
        ...base,
        resource: '-',
        inputs: {},
        outputs: {},
        result: 'failure',
        details: { error: (error as Error).message.split('\n')[0] },
      });
      throw error;
    }
    await context.audit.record({ ...base, ...outcome, result: 'success' });
  });
}

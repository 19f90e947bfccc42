import { missingVariablesHint, withStoredSecrets } from '../../../secrets/secret-store.js';
import type { StateStore } from '../../../store/state-store.js';
import { instanceSpecOf, type DeployTarget } from '../deploy-target.js';
import { RUNNING_STATUSES } from '../deploy.js';
import { LocalSupervisor, type SupervisorEvent } from './local-supervisor.js';
import { startSupervisorServer } from './supervisor-server.js';

export interface ServeOptions {
  readonly home: string;
  readonly store: StateStore;
  /**
   * Where restored deployments take their declared variables from. Default process.env; what it does
   * not set comes from the secret store of `home`.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** The control API's port; default any free port (recorded in `<home>/supervisor.json`). */
  readonly port?: number;
  readonly signal: AbortSignal;
  /** One line per event (started, exited, restored …). */
  readonly log: (line: string) => void;
  /** Work that runs beside the supervisor until the signal aborts (the Monitor agent, in `serve`). */
  readonly alongside?: (target: DeployTarget, signal: AbortSignal) => Promise<void>;
}

function describe(event: SupervisorEvent): string {
  switch (event.type) {
    case 'started':
      return `${event.deploymentId}: started (pid ${event.pid}, health on port ${event.port})`;
    case 'exited':
      return `${event.deploymentId}: exited (${event.signal ?? `code ${event.code}`}); restarting in ${event.restartInMs} ms`;
    case 'stopped':
      return `${event.deploymentId}: stopped`;
  }
}

/**
 * `connector-factory serve`: the local supervisor with its control API. On start it brings back every
 * local deployment the store says should run (their variables from this process's environment, else
 * from the secret store); on
 * abort it stops them all and removes `<home>/supervisor.json`. Their records keep saying they should
 * run, so the next `serve` restores them.
 */
export async function serveSupervisor(options: ServeOptions): Promise<void> {
  const env = options.env ?? process.env;
  const supervisor = new LocalSupervisor({ home: options.home, onEvent: (event) => options.log(describe(event)) });
  const server = await startSupervisorServer(supervisor, {
    home: options.home,
    ...(options.port !== undefined ? { port: options.port } : {}),
  });
  options.log(`supervisor listening on ${server.url} (pid ${process.pid}), state in ${options.store.location}`);
  try {
    const deployments = (await options.store.deployments.list({ statuses: RUNNING_STATUSES })).filter(
      (record) => record.target === 'local',
    );
    for (const record of deployments) {
      let resolved: NodeJS.ProcessEnv;
      try {
        resolved = await withStoredSecrets(env, record.envNames, { home: options.home });
      } catch (error) {
        const message = `not restored: ${(error as Error).message.split('\n')[0]}`;
        await options.store.deployments.update(record.id, { status: 'unhealthy', lastError: message });
        options.log(`${record.id}: ${message}`);
        continue;
      }
      const { spec, missing } = instanceSpecOf(record, resolved);
      if (spec === undefined) {
        const message = `not restored: ${missing.join(', ')} neither in the supervisor's environment nor in the secret store; ${missingVariablesHint(missing)}, then restart \`connector-factory serve\``;
        await options.store.deployments.update(record.id, { status: 'unhealthy', lastError: message });
        options.log(`${record.id}: ${message}`);
        continue;
      }
      const started = await supervisor.start(spec);
      if (started.endpoint !== record.endpoint) {
        await options.store.deployments.update(record.id, { endpoint: started.endpoint, healthUrl: started.healthUrl });
      }
      options.log(`${record.id}: restored ${record.connectorId} ${record.version}`);
    }
    const stopped = new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      else options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.all([stopped, options.alongside?.(supervisor, options.signal)]);
  } finally {
    await server.close();
    await supervisor.close();
    options.log('supervisor stopped');
  }
}

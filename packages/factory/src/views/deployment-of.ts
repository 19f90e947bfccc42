import { FactoryError } from '../errors.js';
import type { DeploymentRecord } from '../records/index.js';
import type { StateStore } from '../store/state-store.js';

/** The deployment a name refers to: a deployment id, else the newest deployment of a connector id. */
export async function deploymentOf(store: StateStore, ref: string): Promise<DeploymentRecord> {
  const byId = await store.deployments.get(ref);
  if (byId) return byId;
  const [newest] = await store.deployments.list({ connectorId: ref });
  if (!newest)
    throw new FactoryError('not_found', `no deployment of ${ref}; see \`connector-factory deployments --all\``);
  return newest;
}

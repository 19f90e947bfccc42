import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.js';
import { resolveActor } from '../../src/cars/actor.js';
import { Cars } from '../../src/cars/cars.js';
import { parsePolicy } from '../../src/cars/policy.js';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import { LocalSupervisor, type RestartPolicy } from '../../src/agents/deploy/local/local-supervisor.js';
import { openStateStore } from '../../src/store/open-state-store.js';

/** `ops` operates; everyone else only looks. */
export const OPS_POLICY = 'roles:\n  ops: operator\ndefaultRole: viewer\n';

export interface FactoryContextOptions {
  /** The policy's YAML text; OPS_POLICY unless given. */
  readonly policy?: string;
  readonly restart?: Partial<RestartPolicy>;
}

/**
 * A factory home at `home` as `create` and `deploy` see it: a state store in `home/state.db`, the local
 * supervisor, CARS under the policy and an audit log, acting as `ops`. `close()` stops every connector
 * the supervisor runs and closes the store.
 */
export async function openFactoryContext(home: string, options: FactoryContextOptions = {}) {
  const store = await openStateStore(join(home, 'state.db'));
  const policy = parsePolicy(options.policy ?? OPS_POLICY, join(home, 'policy.yaml'));
  const audit = new AuditLog(store);
  const supervisor = new LocalSupervisor({ home, ...(options.restart ? { restart: options.restart } : {}) });
  const context: DeployContext = {
    store,
    target: supervisor,
    cars: new Cars(store, policy, audit),
    audit,
    actor: resolveActor({ flag: 'ops', policy }),
    home,
  };
  return {
    store,
    supervisor,
    policy,
    context,
    close: async () => {
      await supervisor.close();
      await store.close();
    },
  };
}

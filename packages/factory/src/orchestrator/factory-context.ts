import { AuditLog } from '../audit/audit-log.js';
import { loadAuditSigner } from '../audit/audit-signer.js';
import { resolveActor, type Actor } from '../cars/actor.js';
import { Cars } from '../cars/cars.js';
import { loadPolicy, type Policy } from '../cars/policy.js';
import { factoryHome } from '../home.js';
import { defaultStateLocation, openStateStore } from '../store/open-state-store.js';
import type { StateStore } from '../store/state-store.js';

/** Everything an agent run needs from the factory: where it lives, its state, its policy, who acts. */
export interface FactoryContext {
  readonly home: string;
  readonly store: StateStore;
  readonly policy: Policy;
  readonly actor: Actor;
  readonly audit: AuditLog;
  readonly cars: Cars;
  close(): Promise<void>;
}

export interface FactoryContextOptions {
  /** Default CONNECTOR_FACTORY_HOME, else ./.connector-factory. */
  readonly home?: string;
  /** State store location (file, sqlite:…, postgres://…); default CONNECTOR_FACTORY_STATE, else <home>/state.db. */
  readonly state?: string;
  /** Policy file; default CONNECTOR_FACTORY_POLICY, else <home>/policy.yaml when present. */
  readonly policy?: string;
  /** --actor */
  readonly actor?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Opens the factory for one command: the policy first (a bad policy file fails before anything opens),
 * then the state store (migrated), the audit log (signed with CONNECTOR_FACTORY_AUDIT_KEY's key, else the
 * user's default key, created on first use outside the state store) and the CARS gate. Close it when done.
 */
export async function openFactoryContext(options: FactoryContextOptions = {}): Promise<FactoryContext> {
  const env = { ...(options.env ?? process.env) };
  if (options.home !== undefined) env.CONNECTOR_FACTORY_HOME = options.home;
  const home = factoryHome(env);
  const policy = await loadPolicy({ ...(options.policy !== undefined ? { file: options.policy } : {}), env });
  const actor = resolveActor({ ...(options.actor !== undefined ? { flag: options.actor } : {}), env, policy });
  const signer = loadAuditSigner(env);
  const store = await openStateStore(options.state ?? defaultStateLocation(env));
  const audit = new AuditLog(store, signer);
  const cars = new Cars(store, policy, audit);
  return { home, store, policy, actor, audit, cars, close: () => store.close() };
}

import { userInfo } from 'node:os';
import { FactoryError } from '../errors.js';
import type { Policy, Role } from './policy.js';

/** Who is acting, with the role the policy gives them. */
export interface Actor {
  readonly name: string;
  readonly role: Role;
  /** Where the name came from: `--actor`, `CONNECTOR_FACTORY_ACTOR` or the operating-system user. */
  readonly source: 'flag' | 'env' | 'os';
  /** Where the role came from, for messages: the policy file, or the built-in default. */
  readonly roleSource: string;
}

const ACTOR_NAME = /^[A-Za-z0-9._@+-]{1,128}$/;
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/**
 * The acting user: `flag` (the `--actor` option), else `CONNECTOR_FACTORY_ACTOR`, else the operating-system
 * user; the role is the policy's for that name, else its defaultRole. The name is claimed, not proven:
 * whoever can run the CLI can claim any name, so the policy governs honest users, and the signed audit
 * log (which records the OS user beside the actor) shows who claimed what.
 */
export function resolveActor(options: { flag?: string; env?: NodeJS.ProcessEnv; policy: Policy }): Actor {
  const env = options.env ?? process.env;
  const fromEnv = env['CONNECTOR_FACTORY_ACTOR'];
  const [name, source] =
    options.flag !== undefined
      ? ([options.flag, 'flag'] as const)
      : fromEnv !== undefined && fromEnv !== ''
        ? ([fromEnv, 'env'] as const)
        : ([osUser(), 'os'] as const);
  if (!ACTOR_NAME.test(name)) {
    const origin = source === 'flag' ? '--actor' : source === 'env' ? 'CONNECTOR_FACTORY_ACTOR' : 'the OS user name';
    throw new FactoryError(
      'usage',
      `${origin}: ${JSON.stringify(name.slice(0, 40))} is not an actor name (1–128 letters, digits and . _ @ + -)`,
    );
  }
  const named = options.policy.roles[name];
  const where = options.policy.file ?? 'the built-in policy';
  return {
    name,
    role: named ?? options.policy.defaultRole,
    source,
    roleSource: named !== undefined ? `roles in ${where}` : `defaultRole of ${where}`,
  };
}

/** The operating-system user running this process. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/** True when `role` is at least `minimum` (viewer < operator < admin). */
export function hasRole(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/** Throws FactoryError('forbidden') unless `actor` has at least `role`; `what` says what was attempted. */
export function requireRole(actor: Actor, role: Role, what: string): void {
  if (hasRole(actor.role, role)) return;
  throw new FactoryError(
    'forbidden',
    `${what} needs the ${role} role; ${actor.name} is ${actor.role} (from the ${actor.roleSource})`,
  );
}

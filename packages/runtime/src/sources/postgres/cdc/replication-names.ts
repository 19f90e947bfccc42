import { RuntimeError } from '../../../errors.js';

const REPLICATION_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Slot and publication names must be lower-case identifiers of at most 63 characters (no quoting needed). */
export function validateReplicationName(kind: 'slot' | 'publication', name: string): string {
  if (typeof name !== 'string' || !REPLICATION_NAME.test(name)) {
    throw new RuntimeError(
      'config',
      `postgres cdc: the ${kind} name ${JSON.stringify(name)} must be a lower-case identifier ([a-z_][a-z0-9_]*) of at most 63 characters`,
    );
  }
  return name;
}

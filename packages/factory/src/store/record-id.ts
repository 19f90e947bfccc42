import { randomBytes } from 'node:crypto';

/**
 * A new record id, `<prefix>_<time>_<random>`: base-36 milliseconds (so ids sort by creation) and
 * 48 random bits. Lower-case only, so an id never looks like a token to the secret scanner.
 */
export function newRecordId(prefix: string, now: Date = new Date()): string {
  return `${prefix}_${now.getTime().toString(36)}_${randomBytes(6).toString('hex')}`;
}

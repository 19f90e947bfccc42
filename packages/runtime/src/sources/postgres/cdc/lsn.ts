import { RuntimeError } from '../../../errors.js';

/** Log sequence numbers: PostgreSQL's text form (`16/B374D848`) and the 64-bit integer the protocol sends. */

/** An LSN (`16/B374D848`) as a 64-bit integer. */
export function parseLsn(text: unknown, what = 'LSN'): bigint {
  const match = typeof text === 'string' ? /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text) : null;
  if (!match)
    throw new RuntimeError('config', `postgres cdc: ${what} ${JSON.stringify(text)} is not an LSN like "16/B374D848"`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The text form PostgreSQL prints (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

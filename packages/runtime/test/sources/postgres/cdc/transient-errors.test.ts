import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../../../src/errors.js';
import { errorCode, isSlotInUse, isTransient, retry } from '../../../../src/sources/postgres/cdc/transient-errors.js';

const pgFailure = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('transient errors', () => {
  it('classifies server restarts, overload, unreachable hosts and a slot in use as transient', () => {
    for (const code of ['57P01', '57P03', '53300', '55006', '08006', 'ECONNREFUSED', 'ECONNRESET']) {
      expect(isTransient(pgFailure(code)), code).toBe(true);
    }
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransient(pgFailure('42501', 'permission denied for table orders'))).toBe(false);
    expect(isTransient(pgFailure('42P01', 'relation "orders" does not exist'))).toBe(false);
  });

  it('reads the SQLSTATE from a RuntimeError through its cause', () => {
    const wrapped = new RuntimeError('internal', 'postgres: slot busy', { cause: pgFailure('55006') });
    expect(errorCode(wrapped)).toBe('55006');
    expect(isSlotInUse(wrapped)).toBe(true);
    expect(isSlotInUse(pgFailure('57P01'))).toBe(false);
  });
});

describe('retry', () => {
  it('repeats a retryable failure up to the limit, then throws the last failure', async () => {
    const attempts: number[] = [];
    const failing = retry(
      (n) => {
        attempts.push(n);
        return Promise.reject(pgFailure('55006', `attempt ${n}`));
      },
      { retries: 3, retryable: isSlotInUse, delayMs: () => 1 },
    );
    await expect(failing).rejects.toThrow('attempt 3');
    expect(attempts).toEqual([0, 1, 2, 3]);
  });

  it('returns the first success and stops at a failure that is not retryable', async () => {
    let calls = 0;
    const value = await retry((n) => (n < 2 ? Promise.reject(pgFailure('55006')) : Promise.resolve(`after ${n}`)), {
      retries: 5,
      retryable: isSlotInUse,
      delayMs: () => 0,
    });
    expect(value).toBe('after 2');
    const refused = retry(
      () => {
        calls++;
        return Promise.reject(pgFailure('42501', 'permission denied'));
      },
      { retries: 5, retryable: isSlotInUse, delayMs: () => 0 },
    );
    await expect(refused).rejects.toThrow('permission denied');
    expect(calls).toBe(1);
  });

  it('waits the policy delay between attempts', async () => {
    const delays: number[] = [];
    const started = Date.now();
    await retry((n) => (n < 2 ? Promise.reject(pgFailure('57P01')) : Promise.resolve()), {
      retries: 2,
      retryable: isTransient,
      delayMs: (n) => {
        delays.push(n);
        return 40;
      },
    });
    expect(delays).toEqual([0, 1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });
});

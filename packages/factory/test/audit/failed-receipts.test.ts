import { afterEach, describe, expect, it } from 'vitest';
import { digestOf, type ReceiptInput } from '@connector-factory/factory';
import { redactDetails } from '../../src/audit/secret-guard.js';
import { closeFreshLogs, freshLog } from '../support/audit-log.js';

// A failed action always leaves its receipt: the error it quotes is redacted, not refused.

afterEach(closeFreshLogs);

const failure = (details: Record<string, unknown>): ReceiptInput => ({
  action: 'extract_schema',
  agent: 'schema',
  actor: 'alice',
  resource: 'postgres:orders',
  riskLevel: 'low',
  inputs: {},
  outputs: {},
  result: 'failure',
  details,
});

describe('the receipt of a failed action', () => {
  it('is stored when its error quotes a URL whose password is already masked', async () => {
    const { log, store } = await freshLog();
    const error =
      'postgres: connecting failed (postgresql://cf:***@127.0.0.1:54329/cf): password authentication failed for user "cf"';
    await log.record(failure({ error }));
    expect((await store.audit.all()).map((r) => r.details)).toEqual([{ error }]);
    expect((await log.verify()).ok).toBe(true);
  });

  it('is stored with a real password and a credential parameter masked, a token and a credential redacted', async () => {
    const { log, store } = await freshLog();
    await log.record(
      failure({
        error: 'connect to postgresql://app:hunter2@db:5432/shop failed',
        dsn: 'host=db user=app password=hunter2 dbname=shop',
        odd: 'postgresql://app:pa/ss@wo:rd@db/shop refused',
        header: 'sent Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXN0dWZm',
        nested: [{ apiKey: 'hunter2hunter2' }],
      }),
    );
    const [receipt] = await store.audit.all();
    expect(receipt!.result).toBe('failure');
    expect(receipt!.details).toEqual({
      error: 'connect to postgresql://app:***@db:5432/shop failed',
      dsn: 'host=db user=app password=*** dbname=shop',
      odd: 'postgresql://app:***@db/shop refused',
      header: 'sent Bearer <redacted>',
      nested: [{ apiKey: '<redacted>' }],
    });
    expect(JSON.stringify(await store.audit.all())).not.toMatch(/hunter2|pa\/ss|wo:rd|eyJ/);
    expect((await log.verify()).ok).toBe(true);
  });

  it('a refused action is redacted the same way; a success holding a secret is still refused', async () => {
    const { log, store } = await freshLog();
    await log.record({ ...failure({ error: 'postgresql://app:hunter2@db/shop' }), result: 'refused' });
    expect((await store.audit.all())[0]!.details).toEqual({ error: 'postgresql://app:***@db/shop' });
    const success: ReceiptInput = {
      ...failure({ connection: 'postgresql://app:hunter2@db/shop' }),
      result: 'success',
      inputs: { source: digestOf('x') },
    };
    await expect(log.record(success)).rejects.toThrow(
      /refusing to store the extract_schema receipt: details\.connection .*password/,
    );
    // A masked URL is no secret, in a success's details too.
    await log.record({ ...success, details: { connection: 'postgresql://app:***@db/shop' } });
    expect(await store.audit.all()).toHaveLength(2);
  });
});

describe('redactDetails', () => {
  it('leaves masked values, env-var references and plain text alone', () => {
    const text = 'postgresql://app:${PG_PASSWORD}@db/shop, postgresql://app:***@db/shop password=*** ok';
    expect(redactDetails({ text })).toEqual({ text });
    expect(redactDetails({ a: ['x', 1, null, { b: true }] })).toEqual({ a: ['x', 1, null, { b: true }] });
  });

  it('keeps a key named __proto__ as data, and a credential too short to be matched goes whole', () => {
    const value = JSON.parse('{"__proto__": {"password": "abc"}}') as Record<string, unknown>;
    const redacted = redactDetails(value);
    expect(JSON.stringify(redacted)).toBe('{"__proto__":{"password":"***"}}');
    expect(({} as Record<string, unknown>)['password']).toBeUndefined();
  });
});

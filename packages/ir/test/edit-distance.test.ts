import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../src/index.js';

describe('editDistance', () => {
  it('counts inserts, deletes and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('orders', 'orders')).toBe(0);
    expect(editDistance('order', 'orders')).toBe(1);
  });

  it('counts two swapped adjacent letters as one edit', () => {
    expect(editDistance('salesfroce', 'salesforce')).toBe(1);
    expect(editDistance('fromat', 'format')).toBe(1);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('ca', 'abc')).toBe(3);
  });

  it('is symmetric', () => {
    for (const [a, b] of [
      ['postgres', 'postgers'],
      ['customers', 'custmoer'],
      ['hubspot', 'hbuspto'],
    ] as const) {
      expect(editDistance(a, b)).toBe(editDistance(b, a));
    }
  });

  it('lets "did you mean" reach a transposed name', () => {
    expect(closest('scheudel', ['schedule', 'source', 'destination'])).toBe('schedule');
  });
});

import { describe, expect, it } from 'vitest';
import { cronError } from '../src/index.js';

describe('cronError', () => {
  it('accepts 5- and 6-field expressions with lists, ranges, steps and names', () => {
    for (const expression of [
      '* * * * *',
      '0 */15 * * * *',
      '0 2 * * *',
      '30 0 2 * * MON-FRI',
      '0 0 1,15 * *',
      '0 9-17/2 * JAN-MAR 1-5',
      '0 0 12 ? * SUN',
      '0 0 * * 7',
    ]) {
      expect(cronError(expression), expression).toBeUndefined();
    }
  });

  it('says which field is wrong and why', () => {
    expect(cronError('* * *')).toMatch(/5 fields.*has 3/);
    expect(cronError('60 * * * * *')).toMatch(/^second field "60"/);
    expect(cronError('0 24 * * *')).toMatch(/^hour field "24"/);
    expect(cronError('0 0 32 * *')).toMatch(/^day-of-month field/);
    expect(cronError('0 0 * 0 *')).toMatch(/^month field/);
    expect(cronError('0 0 * * 8')).toMatch(/^day-of-week field/);
    expect(cronError('*/0 * * * *')).toMatch(/step "0"/);
    expect(cronError('5-1 * * * *')).toMatch(/runs backwards/);
    expect(cronError('1,,2 * * * *')).toMatch(/empty list item/);
    expect(cronError('? * * * *')).toMatch(/^minute field/);
  });
});

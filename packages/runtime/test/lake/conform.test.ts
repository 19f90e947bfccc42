import { describe, expect, it } from 'vitest';
import { conformValue, parseTimestampMicros } from '../../src/lake/conform.js';
import { columnOf } from '../../src/lake/table-schema.js';

const col = (type: Parameters<typeof columnOf>[0]['type'], hint?: string, nullable = true) =>
  columnOf({ name: 'c', type, nullable }, hint);

describe('conformValue', () => {
  it('keeps int64 exact and rejects what does not fit', () => {
    const c = col('number', 'int64');
    expect(conformValue('9223372036854775807', c)).toEqual({ ok: true, value: 9223372036854775807n });
    expect(conformValue(42, c)).toEqual({ ok: true, value: 42n });
    expect(conformValue(1.5, c).ok).toBe(false);
    expect(conformValue(2 ** 60, c).ok).toBe(false);
    expect(conformValue('9223372036854775808', c).ok).toBe(false);
  });

  it('normalises decimals to their scale and refuses silent rounding', () => {
    const c = col('number', 'decimal(6,2)');
    expect(conformValue('12.5', c)).toEqual({ ok: true, value: '12.50' });
    expect(conformValue(-0.1, c)).toEqual({ ok: true, value: '-0.10' });
    expect(conformValue('1e2', c)).toEqual({ ok: true, value: '100.00' });
    expect(conformValue('-0', c)).toEqual({ ok: true, value: '0.00' });
    expect(conformValue('1.005', c).ok).toBe(false);
    expect(conformValue('12345.6', c).ok).toBe(false);
  });

  it('keeps timestamp microseconds and honours offsets', () => {
    expect(parseTimestampMicros('2025-01-31T12:00:00.123456Z')).toBe(1738324800123456n);
    expect(parseTimestampMicros('2025-01-31 13:00:00.123456+01:00')).toBe(1738324800123456n);
    expect(parseTimestampMicros(new Date('2025-01-31T12:00:00.123Z'))).toBe(1738324800123000n);
    expect(parseTimestampMicros('0001-01-01T00:00:00Z')).toBe(-62135596800000000n);
    expect(parseTimestampMicros('2025-02-30T00:00:00Z')).toBeUndefined();
  });

  it('accepts dates in any century', () => {
    expect(conformValue('0001-01-01', col('date'))).toEqual({ ok: true, value: '0001-01-01' });
    expect(conformValue('2024-02-29', col('date'))).toEqual({ ok: true, value: '2024-02-29' });
    expect(conformValue('2023-02-29', col('date')).ok).toBe(false);
  });

  it('serialises json and rejects nulls in non-nullable columns', () => {
    expect(conformValue({ a: 1n, b: [true] }, col('json'))).toEqual({ ok: true, value: '{"a":"1","b":[true]}' });
    expect(conformValue('not json', col('json'))).toEqual({ ok: true, value: '"not json"' });
    // A JSON string that looks like a number stays a string.
    expect(conformValue('123', col('json'))).toEqual({ ok: true, value: '"123"' });
    expect(conformValue(null, col('string', undefined, false))).toEqual({
      ok: false,
      reason: 'column "c" is not nullable but the value is null',
    });
  });
});

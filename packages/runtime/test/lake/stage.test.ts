import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestampMicros } from '../../src/lake/conform.js';
import { isoMicros } from '../../src/lake/stage.js';

describe('isoMicros (the hot-path timestamp parser)', () => {
  it('agrees with the reference parser on the ISO shapes sources send', () => {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 1700, max: 2200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom('Z', '+00:00', '+05:30', '-08:00', '+14', ' junk', ''),
        fc.constantFrom('T', ' '),
        (y, mo, d, h, mi, s, us, places, zone, sep) => {
          const fraction = places === 0 ? '' : `.${pad(us, 6).slice(0, places)}`;
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction}${zone}`;
          const fast = isoMicros(text);
          const reference = parseTimestampMicros(text);
          // The fast parser may decline (undefined) but must never disagree.
          if (fast !== undefined) expect(BigInt(fast)).toBe(reference);
          // It takes every well-formed value with an explicit zone.
          if (zone === 'Z' || zone === '+00:00' || zone === '+05:30' || zone === '-08:00') {
            expect(fast === undefined).toBe(reference === undefined);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('declines what it does not know', () => {
    for (const text of ['2025-02-30T00:00:00Z', '2025-01-01', '2025-01-01T24:00:00Z', 'infinity', '2025-01-01T00:00:00.Z', '2025-01-01T00:00:00+5']) {
      expect(isoMicros(text), text).toBeUndefined();
    }
  });
});

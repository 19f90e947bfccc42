/**
 * Reads a value at a dotted path in a parsed JSON body (`data`, `links.next`, `meta.page.total`; `$` or
 * an empty path is the body itself). Only own properties are followed, so a path segment named
 * `constructor` or `__proto__` finds nothing instead of reaching Object.prototype.
 */
export function valueAt(body: unknown, path: string): unknown {
  const segments = path === '$' || path === '' ? [] : path.replace(/^\$\./, '').split('.');
  let value = body;
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined;
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(segment)) return undefined;
      value = value[Number(segment)];
    } else if (Object.hasOwn(value, segment)) {
      value = (value as Record<string, unknown>)[segment];
    } else return undefined;
  }
  return value;
}

/** One difference between two manifests, by JSON path: what an approver reads before a deploy. */
export interface ManifestChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'changed';
  readonly from?: unknown;
  readonly to?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Entities and fields are compared by name, not position, so a reordering is no change. */
function keyed(value: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (!value.every((item) => isObject(item) && typeof item.name === 'string')) return undefined;
  return Object.fromEntries(value.map((item) => [(item as { name: string }).name, item]));
}

/**
 * The differences between the running manifest and the new one: added, removed and changed leaves,
 * with arrays of named objects (entities, fields) matched by name. Values are copied as they are — a
 * manifest holds no secrets, only references to variables.
 */
export function diffManifests(before: unknown, after: unknown, path = ''): ManifestChange[] {
  const keyedBefore = keyed(before);
  const keyedAfter = keyed(after);
  const a = keyedBefore && keyedAfter ? keyedBefore : before;
  const b = keyedBefore && keyedAfter ? keyedAfter : after;
  if (isObject(a) && isObject(b)) {
    const changes: ManifestChange[] = [];
    for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const child = path === '' ? key : `${path}.${key}`;
      if (!(key in b)) changes.push({ path: child, change: 'removed', from: a[key] });
      else if (!(key in a)) changes.push({ path: child, change: 'added', to: b[key] });
      else changes.push(...diffManifests(a[key], b[key], child));
    }
    return changes;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [{ path: path || '$', change: 'changed', from: a, to: b }];
}

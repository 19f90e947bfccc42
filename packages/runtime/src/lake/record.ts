/**
 * The prototype of every record the runtime builds: an empty frozen object whose own prototype is null.
 * Object.prototype is not in a record's chain, so every column name a database allows is an ordinary
 * own field — `__proto__` is set, not the record's prototype, and `constructor` or `toString` read
 * undefined unless the row has them. (A prototype of its own, rather than `Object.create(null)`, keeps
 * records in V8's fast object shapes: the row path builds millions of them.)
 */
const RECORD_PROTOTYPE: object = Object.freeze(Object.create(null) as object);

/** A new, empty record: set any field name on it. */
export function newRecord(): Record<string, unknown> {
  return Object.create(RECORD_PROTOTYPE) as Record<string, unknown>;
}

/**
 * Records as sources hand them over and the lake writes them: the one vocabulary both sides share, so
 * sources do not depend on the lake and the lake does not depend on any source.
 */

/** A record as a source hands it over: field name → value. */
export type Row = Readonly<Record<string, unknown>>;

/** A record that did not fit the schema, with the reason; it goes to the quarantine. */
export interface RejectedRow {
  readonly row: Row;
  readonly reason: string;
}

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

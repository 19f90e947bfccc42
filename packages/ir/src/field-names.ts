/**
 * Field names a lake table cannot hold. Every name a database allows is carried as it is (quotes,
 * backticks, newlines, `__proto__`, reserved words), except two kinds: the columns the runtime adds
 * to every table, and names that differ only in case within one entity (the lake writer's engine,
 * DuckDB, compares column names without case, so it cannot stage both).
 */

/** The columns the runtime adds to every lake table (`_op` only for updateStrategy cdc). */
export const RUNTIME_COLUMN_NAMES: readonly string[] = ['_extracted_at', '_connector_id', '_connector_version', '_op'];

/** A field of an entity that no lake table can hold, and why. */
export interface UnsupportedFieldName {
  /** Its position among the entity's fields. */
  readonly index: number;
  readonly name: string;
  readonly reason: string;
}

/**
 * The fields among `names` (one entity's, in order) a lake table cannot hold: a runtime column's
 * name (in any case), or a name equal to an earlier one but for case. Exact repeats are not reported
 * here (a manifest rule reports them as duplicates).
 */
export function unsupportedFieldNames(names: readonly string[], cdc: boolean): UnsupportedFieldName[] {
  const runtime = new Map(
    RUNTIME_COLUMN_NAMES.filter((name) => cdc || name !== '_op').map((name) => [name.toLowerCase(), name]),
  );
  const seen = new Map<string, string>();
  const out: UnsupportedFieldName[] = [];
  names.forEach((name, index) => {
    const folded = name.toLowerCase();
    const added = runtime.get(folded);
    const earlier = seen.get(folded);
    if (added !== undefined) {
      out.push({
        index,
        name,
        reason: `"${name}" is the name of a column the connector adds to every lake table (${added}); rename it in the source (a view) or the entity's query`,
      });
    } else if (earlier !== undefined && earlier !== name) {
      out.push({
        index,
        name,
        reason: `"${name}" and "${earlier}" differ only in case, and the lake writer compares column names without case; rename one in the source (a view) or the entity's query`,
      });
    }
    if (!seen.has(folded)) seen.set(folded, name);
  });
  return out;
}

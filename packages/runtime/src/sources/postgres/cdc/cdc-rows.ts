/** A row under construction: made by `newRecord`, so it has no prototype. */
export type MutableRow = Record<string, unknown>;

/** Sets a field of a row made by `newRecord` (no Object.prototype: `__proto__` is an own field too). */
export function setField(row: MutableRow, name: string, value: unknown): void {
  row[name] = value;
}

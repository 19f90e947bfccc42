/** Reading an untyped JSON or YAML tree: each accessor answers the shape asked for, or an empty one. */
export type Json = Readonly<Record<string, unknown>>;
export const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
export const obj = (value: unknown): Json => (isObject(value) ? value : {});
export const arr = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
export const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

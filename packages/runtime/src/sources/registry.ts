import { RuntimeError } from '../errors.js';
import type { SourceKind } from './kind.js';
import { mysqlKind } from './mysql/index.js';
import { postgresKind } from './postgres/index.js';

/** Every source kind the runtime has, by name: a new kind is one folder under sources/ and one entry here. */
export const SOURCE_KINDS = {
  postgres: postgresKind,
  mysql: mysqlKind,
} as const satisfies Readonly<Record<string, SourceKind>>;

export type SourceKindName = keyof typeof SOURCE_KINDS;

const BY_PROVIDER: ReadonlyMap<string, SourceKind> = new Map(
  Object.values(SOURCE_KINDS).flatMap((kind: SourceKind) => kind.providers.map((p) => [p, kind] as const)),
);

/** The kind that reads a manifest's `source.provider`, or undefined. */
export function sourceKindOf(provider: string): SourceKind | undefined {
  return BY_PROVIDER.get(provider);
}

/** Every provider name some kind reads, sorted (for error messages). */
export function sourceProviders(): string[] {
  return [...BY_PROVIDER.keys()].sort();
}

/** Validates a kind's settings with its schema: a config error naming each wrong setting, never its value. */
export function parseSourceOptions<O>(kind: SourceKind<O>, input: unknown): O {
  const parsed = kind.options.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`);
  throw new RuntimeError('config', `${kind.kind} source options: ${problems.join('; ')}`);
}

import type { ConnectorManifest } from '@connector-factory/ir';
import type { z } from 'zod';
import type { Source } from './source.js';

/** What the connector knows when it creates a source, besides the manifest. */
export interface SourceContext {
  /** The environment `${NAME}` references in the manifest are expanded from (credentials live only there). */
  readonly env: NodeJS.ProcessEnv;
  /**
   * The source's connection string with its references expanded already (a connector's resolved
   * configuration); when given, the kind does not expand it from `env` again.
   */
  readonly connection?: string;
  /** Rows per chunk (a resumable point), when the operator set it. */
  readonly chunkRows?: number;
}

/**
 * A source kind: one folder under `sources/<kind>/` (`<kind>-source.ts`, `<kind>-options.ts`,
 * `<kind>-values.ts`, `index.ts` exporting this descriptor), one entry in `sources/registry.ts`.
 */
export interface SourceKind<Options = unknown> {
  /** The kind's name (`postgres`, `mysql`): the folder's name. */
  readonly kind: string;
  /** The manifest `source.provider` names this kind reads. */
  readonly providers: readonly string[];
  /** The kind's settings (connection, chunk size, the kind's own knobs): `create` takes what it accepts. */
  readonly options: z.ZodType<Options>;
  /**
   * The kind's settings for a manifest, before validation: connection string expanded from the
   * environment, names derived from the connector id. Throws a config error naming what is missing.
   */
  optionsOf(manifest: ConnectorManifest, context: SourceContext): unknown;
  /** A source from valid settings (parsed with `options`). */
  create(options: Options): Source;
}

/** A parsed options object with its absent settings (at any depth) left out rather than `undefined`. */
export type Defined<T> = {
  [K in keyof T]: Exclude<T[K], undefined> extends Record<string, unknown>
    ? Defined<Exclude<T[K], undefined>>
    : Exclude<T[K], undefined>;
};

/** Drops the `undefined` settings zod leaves for absent optional keys. */
export function defined<T extends object>(options: T): Defined<T> {
  const entries = Object.entries(options).flatMap(([key, value]: [string, unknown]) =>
    value === undefined
      ? []
      : [[key, value !== null && typeof value === 'object' && !Array.isArray(value) ? defined(value) : value]],
  );
  return Object.fromEntries(entries) as Defined<T>;
}

import type {
  Auth,
  LakeFormat,
  RateLimit,
  ScheduleSpec,
  SourceType,
  TemplateKind,
  UpdateStrategy,
} from '@connector-factory/ir';

/** Which words of the input were taken to mean what: the Discovery Agent's explanation of itself. */
export interface DiscoveryMatch {
  /** The words as the user wrote them (a connection string only with its password replaced by ***). */
  readonly words: string;
  readonly meaning: string;
}

/** The update strategy the description asks for (or the provider's default), and why. */
export interface StrategyHint {
  readonly updateStrategy: UpdateStrategy;
  readonly reason: string;
  /** The cursor field an incremental sync would use, when the registry or the OpenAPI document names one. */
  readonly incrementalKey?: string;
  /** The cursor column the user named ("incremental on modified_at"): the schema agent checks it against the table. */
  readonly namedCursor?: string;
}

/** An IR schedule plus why it was chosen; drop `reason` to get the IR `ScheduleSpec`. */
export type ScheduleHint = ScheduleSpec & { readonly reason: string };

/** Where the description says the data should land. */
export interface DestinationHint {
  readonly lakePath?: string;
  readonly format?: LakeFormat;
}

/**
 * What the Discovery Agent found out about a source: the `source` part of a Connector IR manifest
 * (type, provider, base URL or connection-string reference, auth, rate limit) plus the hints the later
 * agents start from (entities, strategy, schedule, destination, codegen template).
 *
 * Credentials never appear: `connectionString` is an env-var reference such as
 * `${POSTGRES_CONNECTION_STRING}` (file sources: a location), and `auth.config` names env vars only.
 */
export interface SourceManifest {
  readonly type: SourceType;
  readonly provider: string;
  readonly displayName: string;
  readonly baseUrl?: string;
  readonly connectionString?: string;
  readonly auth: Auth;
  readonly rateLimit?: RateLimit;
  readonly suggestedEntities: string[];
  /** The words ask for every table ("all tables", "the whole database", "everything"); otherwise none named is a question. */
  readonly allEntities?: true;
  /** API path of each suggested entity, when an OpenAPI document gave them. */
  readonly entityEndpoints?: Readonly<Record<string, string>>;
  readonly strategy: StrategyHint;
  readonly schedule: ScheduleHint;
  readonly destination?: DestinationHint;
  /** The codegen template family for this source. */
  readonly template: TemplateKind;
  readonly matches: DiscoveryMatch[];
  readonly warnings: string[];
}

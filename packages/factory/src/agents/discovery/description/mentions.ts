import type { AuthMethod, LakeFormat, ProviderDefinition, ScheduleSpec } from '@connector-factory/ir';
import type { Token } from './tokens.js';

/** What the sentence reader finds: one kind of mention per phrase, each with the words and where they stand. */

interface Spanned {
  /** The words as written in the description. */
  readonly words: string;
  /** Offset of the words in the description, for ordering explanations. */
  readonly start: number;
}

export interface ProviderMention extends Spanned {
  readonly provider: ProviderDefinition;
  /** name / alias: exact (case, spaces and punctuation ignored); typo: within edit distance; host: a URL or host name of the provider. */
  readonly how: 'name' | 'alias' | 'typo' | 'host';
  /** The registry name or alias that matched, normalised. */
  readonly key: string;
  /** Edits between the words and the key (0 unless a typo). */
  readonly distance: number;
  /** For host mentions: the provider's baseUrl with its host placeholders filled in. */
  readonly baseUrl?: string;
  /** For host mentions: the value of each placeholder, e.g. { shop: 'acme' }. */
  readonly placeholders?: Readonly<Record<string, string>>;
}

export type IntentKind = 'stream' | 'incremental' | 'full_refresh';

export interface IntentMention extends Spanned {
  readonly intent: IntentKind;
  /** Words about change events (changes, CDC, replication), not only about latency (stream, real-time). */
  readonly changes: boolean;
  /** "continuously" / "continuous": a schedule wish as much as a strategy. */
  readonly continuous: boolean;
}

export interface ScheduleMention extends Spanned {
  readonly spec: ScheduleSpec;
  readonly reason: string;
}

export interface LocationMention extends Spanned {
  /** s3://…, file://… or a local path, as written. */
  readonly location: string;
  readonly role: 'source' | 'destination';
}

export interface ConnectionMention extends Spanned {
  /** The connection string as written. May hold a password: never print it, print `words`. */
  readonly raw: string;
}

export interface UrlMention extends Spanned {
  readonly url: string;
  /** graphql: path ends in /graphql; openapi: a .json/.yaml document; api: any other https URL. */
  readonly kind: 'graphql' | 'openapi' | 'api';
}

export interface FormatMention extends Spanned {
  readonly format: LakeFormat;
}

export interface AuthMention extends Spanned {
  /** `token` asks for a token of any kind: bearer or API key, whichever the provider takes. */
  readonly method: AuthMethod | 'token';
  readonly roleArn?: string;
}

export interface QuotedName extends Spanned {
  readonly name: string;
}

/** A table the words name explicitly: "the stream table", "table track", "member from Postgres", `sales.member`. */
export interface TableMention extends Spanned {
  /** As typed (never singularised or pluralised): the schema agent matches it against the live catalog. */
  readonly name: string;
  /** Which shape named it, for the explanation. */
  readonly how: string;
}

/** The cursor column the words name: "incremental on modified_at", "using modified_at as the cursor", "by modified_at". */
export interface CursorMention extends Spanned {
  readonly column: string;
}

export interface EntityMention extends Spanned {
  readonly name: string;
  readonly meaning: string;
}

export interface ParsedDescription {
  readonly text: string;
  readonly tokens: readonly Token[];
  readonly providers: readonly ProviderMention[];
  readonly intents: readonly IntentMention[];
  readonly schedule?: ScheduleMention;
  readonly locations: readonly LocationMention[];
  readonly connections: readonly ConnectionMention[];
  readonly urls: readonly UrlMention[];
  readonly format?: FormatMention;
  readonly auth?: AuthMention;
  readonly quoted: readonly QuotedName[];
  /** Table names read from their shape before any other phrase could take their words. */
  readonly tables: readonly TableMention[];
  readonly cursor?: CursorMention;
  readonly warnings: readonly string[];
}

/** What the Discovery Agent reads: a sentence, and optionally a connection string, an OpenAPI document or a GraphQL endpoint. */
export interface DiscoverInput {
  readonly description?: string;
  /** postgresql://, postgres://, mysql://, mariadb:// (a literal password is never echoed), or an env-var reference such as `${PG_URL}`. */
  readonly connection?: string;
  /** Path (or file:// URL) of an OpenAPI 3 / Swagger 2 document, JSON or YAML. An http(s) URL is not fetched. */
  readonly openapi?: string;
  readonly graphqlEndpoint?: string;
  /**
   * Where an env-var reference in `connection` is looked up, only to learn whether its URL carries the
   * credentials (then auth.config names no separate variables); the value is never kept or printed.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The value trimmed, or undefined when it is missing or blank. */
export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

import { FactoryError } from '../../../errors.js';
import type { UrlMention } from '../description/mentions.js';
import { redactConnection, withoutCredentials } from '../description/redact-connection.js';
import type { Notes } from '../notes.js';

/** A GraphQL endpoint: from --graphql, or a /graphql URL in the words. */
export interface GraphqlFacts {
  /** The endpoint URL without credentials. */
  readonly endpoint: string;
  readonly words: string;
  /** Offset of the URL in the description; absent for --graphql. */
  readonly order?: number;
}

/** Reads the GraphQL endpoint; --graphql must be an http(s) URL, and its credentials are dropped with a warning. */
export function readGraphqlEndpoint(
  graphqlInput: string | undefined,
  graphqlText: UrlMention | undefined,
  notes: Notes,
): GraphqlFacts | undefined {
  if (graphqlInput !== undefined && !/^https?:\/\/\S+$/i.test(graphqlInput)) {
    throw new FactoryError('invalid_input', '--graphql expects the endpoint URL, e.g. https://api.example.com/graphql');
  }
  const graphqlEndpoint = graphqlInput !== undefined ? withoutCredentials(graphqlInput) : graphqlText?.url;
  if (graphqlInput !== undefined && graphqlEndpoint !== graphqlInput) {
    notes.warn('dropped the credentials from the --graphql URL: they come from env vars (auth.config)');
  }
  if (graphqlEndpoint === undefined) return undefined;
  return {
    endpoint: graphqlEndpoint,
    words: graphqlInput !== undefined ? `--graphql ${redactConnection(graphqlInput)}` : graphqlText!.words,
    ...(graphqlInput === undefined && graphqlText !== undefined ? { order: graphqlText.start } : {}),
  };
}

/**
 * What a connector's failure is about, by the spec's error-handling table; `quality`: a batch sent more
 * of its rows to the quarantine than quality.maxQuarantineShare allows, and was not committed.
 */
export type FailureKind = 'auth' | 'schema' | 'quality' | 'other';

const AUTH =
  /password authentication failed|authentication failed|access denied for user|invalid_grant|invalid credentials|\b401\b|unauthori[sz]ed|no pg_hba\.conf entry|role "[^"]*" is not permitted to log in/i;
const SCHEMA =
  /column "?[^"\s]*"? does not exist|relation "?[^"\s]*"? does not exist|unknown column|table '[^']*' doesn't exist|no such (?:column|table)|schema mismatch/i;

const QUALITY = /went to the quarantine, above quality\.maxQuarantineShare/;

/** Classifies a failure message: refused credentials, a source schema that no longer matches, too much quarantined, or else. */
export function failureKind(message: string | null | undefined): FailureKind | undefined {
  if (message === null || message === undefined || message === '') return undefined;
  if (AUTH.test(message)) return 'auth';
  if (QUALITY.test(message)) return 'quality';
  if (SCHEMA.test(message)) return 'schema';
  return 'other';
}

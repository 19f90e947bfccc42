import { isCredentialParameter, redactSecrets } from '@connector-factory/ir';

/**
 * A connection string or URL safe to print: the user-info password and credential parameters become ***
 * (the IR's redactor, which also hides token-shaped words).
 */
export function redactConnection(value: string): string {
  return redactSecrets(value);
}

/** A URL without its user info and credential parameters (the URL itself when it has none). */
export function withoutCredentials(url: string): string {
  if (!hasLiteralSecret(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (isCredentialParameter(key)) parsed.searchParams.delete(key);
    }
    return parsed.toString();
  } catch {
    return redactConnection(url);
  }
}

/** True when a connection string carries a literal credential. */
export function hasLiteralSecret(value: string): boolean {
  return redactConnection(value) !== value;
}

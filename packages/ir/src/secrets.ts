import type { JsonPath, Problem } from './problem.js';

/** `${NAME}`: the only form in which a manifest may carry a credential. */
export const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const ENV_REFERENCE_ANYWHERE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/** Formats of well-known credentials (provider token prefixes, JWTs, cloud keys, PEM private keys). */
const TOKEN_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\beyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]+/, 'a JSON Web Token'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_\w{30,}/, 'a GitHub token'],
  [/\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/, 'a Stripe secret key'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, 'a Google API key'],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, 'a GitLab token'],
  [/\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/, 'a Shopify access token'],
  [/\bpat-(?:na|eu)\d-[a-f0-9-]{36}\b/, 'a HubSpot private app token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
  [/^(?:Bearer|Basic)\s+[A-Za-z0-9+/=._-]{8,}$/i, 'an Authorization header value'],
];

/** Keys that name a credential. `*EnvVar`, `*Url` and `*Header(Name)` keys only point at one. */
const CREDENTIAL_KEY =
  /pass(?:word|wd|phrase)?$|^pwd$|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential/i;
const POINTER_KEY = /(?:EnvVar|Url|Uri|Header|HeaderName|Type|Method|Field)$/;

/** Query/DSN parameters that carry a credential in a connection string. */
const CREDENTIAL_PARAM =
  /^(?:password|passwd|pwd|pass|sslpassword|secret|token|api[-_]?key|access[-_]?key|secret[-_]?key|sas)$/i;

function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** What kind of credential a string looks like, or undefined. Env-var references never look like one. */
export function secretKind(value: string): string | undefined {
  const text = value.replace(ENV_REFERENCE_ANYWHERE, '');
  for (const [pattern, kind] of TOKEN_PATTERNS) if (pattern.test(text)) return kind;
  // A long random-looking word: mixed case and digits with high entropy, no spaces, paths or URL syntax.
  const word = text.trim();
  if (
    word.length >= 24 &&
    /^[A-Za-z0-9+=_.-]+$/.test(word) &&
    /[a-z]/.test(word) &&
    /[A-Z]/.test(word) &&
    /\d/.test(word) &&
    shannonEntropy(word) >= 4
  ) {
    return 'a token';
  }
  return undefined;
}

interface ConnectionSecret {
  readonly part: string;
  readonly redacted: string;
}

/** A literal credential inside a connection string (URL userinfo, query parameter or key=value DSN). */
export function connectionStringSecret(value: string): ConnectionSecret | undefined {
  const isLiteral = (text: string) => text !== '' && !ENV_REFERENCE.test(text);
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^:@/]*):([^@/]*)@/i.exec(value);
  if (userinfo && isLiteral(userinfo[3]!)) {
    return {
      part: 'a password in the user-info part',
      redacted: value.replace(userinfo[0], `${userinfo[1]}${userinfo[2]}:***@`),
    };
  }
  let found: string | undefined;
  const redacted = value.replace(
    /([?&;\s]|^)([A-Za-z_-]+)=([^&;\s]*)/g,
    (whole, lead: string, key: string, val: string) => {
      if (!CREDENTIAL_PARAM.test(key) || !isLiteral(val)) return whole;
      found ??= `the "${key}" parameter`;
      return `${lead}${key}=***`;
    },
  );
  return found === undefined ? undefined : { part: found, redacted };
}

/**
 * Finds every literal credential in a raw document: a credential in `source.connectionString`, a value
 * under a credential-named key, or any string shaped like a known token. Runs on unvalidated input.
 */
export function findLiteralSecrets(document: unknown): Problem[] {
  const problems: Problem[] = [];
  const visit = (value: unknown, path: (string | number)[]): void => {
    if (Array.isArray(value)) {
      value.forEach((item, index) => visit(item, [...path, index]));
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) visit(child, [...path, key]);
      return;
    }
    if (typeof value !== 'string' || value === '') return;
    const problem = secretProblem(value, path);
    if (problem) problems.push(problem);
  };
  visit(document, []);
  return problems;
}

function secretProblem(value: string, path: JsonPath): Problem | undefined {
  const key = String(path[path.length - 1] ?? '');
  if (key === 'connectionString') {
    const secret = connectionStringSecret(value);
    if (secret) {
      return {
        code: 'literal_secret',
        severity: 'error',
        path,
        message: `contains ${secret.part}; credentials never go in a manifest: use an env-var reference such as \${POSTGRES_CONNECTION_STRING}`,
        expected: 'an env-var reference',
        found: JSON.stringify(secret.redacted),
      };
    }
  }
  const kind = secretKind(value);
  if (kind !== undefined) {
    return {
      code: 'literal_secret',
      severity: 'error',
      path,
      message: `looks like ${kind}; credentials never go in a manifest: put it in an environment variable and reference it (\${NAME} or a *EnvVar field)`,
      expected: 'an env-var reference',
      found: '<redacted>',
    };
  }
  if (
    typeof path[path.length - 1] === 'string' &&
    CREDENTIAL_KEY.test(key) &&
    !POINTER_KEY.test(key) &&
    !ENV_REFERENCE.test(value)
  ) {
    return {
      code: 'literal_secret',
      severity: 'error',
      path,
      message: `"${key}" holds a literal credential; name the environment variable instead (e.g. ${key}EnvVar)`,
      expected: 'an env-var reference',
      found: '<redacted>',
    };
  }
  return undefined;
}

import { credentialValues, redactSecrets } from '@connector-factory/ir';

/**
 * Structured JSON logs for a running connector: one object per line, with every credential the
 * process knows about (and every credential-shaped value it does not) replaced by `***` before the
 * line is written.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly level: LogLevel;
  isLevelEnabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` (redacted once, here) to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly connectorId: string;
  readonly version: string;
  /** Lines below this level are dropped; `debug` also adds stacks to logged errors. Default `info`. */
  readonly level?: LogLevel;
  /** Where lines go. Default `process.stderr`, so a connector's stdout stays free for its own output. */
  readonly stream?: NodeJS.WritableStream;
  /** Literal credential values (see `secretValuesFromEnv`) masked wherever they appear. */
  readonly secrets?: readonly string[];
}

const LEVELS: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };
export const REDACTED = '***';

// ---------------------------------------------------------------------------------------------
// Redaction
// ---------------------------------------------------------------------------------------------

/** Masks credentials in text and in any value about to be serialized. */
export interface Redactor {
  /** The text with secrets, connection-string passwords, credential parameters and bearer tokens masked. */
  text(text: string): string;
  /**
   * A JSON-safe deep copy of `value` with every string redacted, values under credential-named keys
   * masked, errors reduced to `{ name, code, message, cause? }` (plus `stack` when `stacks`), cycles and
   * binary data replaced by markers.
   */
  value(value: unknown, options?: { readonly stacks?: boolean }): unknown;
}

/** Word forms of keys whose values are credentials: `password`, `apiKey`, `X-Api-Key`, `client_secret` … */
const SENSITIVE_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'credential',
  'credentials',
  'signature',
  'privatekey',
  'accesskey',
  'secretkey',
]);
const SENSITIVE_PAIRS = new Set(['api key', 'access key', 'private key', 'secret key', 'set cookie']);
/** Last words that make a credential-named key point at a credential rather than hold one (`tokenEnvVar`, `tokenUrl`). */
const POINTER_WORDS = new Set(['var', 'env', 'name', 'url', 'uri', 'type', 'field', 'method', 'count', 'length']);

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

/** Whether a property named `key` holds a credential (password, secret, token, apiKey, authorization …). */
export function isSensitiveKey(key: string): boolean {
  const words = keyWords(key);
  const last = words[words.length - 1];
  if (last === undefined || (words.length > 1 && POINTER_WORDS.has(last))) return false;
  return words.some((word, i) => SENSITIVE_WORDS.has(word) || SENSITIVE_PAIRS.has(`${word} ${words[i + 1] ?? ''}`));
}

/** The forms a secret takes in text: as is, URL-encoded (inside a connection string) and JSON-escaped. */
function secretForms(secrets: readonly string[]): string[] {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === '') continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret that contains another is masked whole.
  return [...forms].filter((form) => form !== '').sort((a, b) => b.length - a.length);
}

const MAX_DEPTH = 12;

export function createRedactor(secrets: readonly string[] = []): Redactor {
  const forms = secretForms(secrets);

  const text = (input: string): string => {
    let out = input;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    // Connection-string passwords, credential parameters, Authorization values and token shapes: the IR's rules.
    return redactSecrets(out);
  };

  const value = (input: unknown, options: { readonly stacks?: boolean } = {}): unknown => {
    const stacks = options.stacks === true;
    const seen = new WeakSet<object>();

    const visit = (v: unknown, depth: number): unknown => {
      switch (typeof v) {
        case 'string':
          return text(v);
        case 'number':
        case 'boolean':
          return v;
        case 'bigint':
          return v.toString();
        case 'undefined':
        case 'function':
        case 'symbol':
          return undefined;
      }
      if (v === null) return null;
      const obj = v as object;
      if (seen.has(obj)) return '[Circular]';
      if (depth > MAX_DEPTH) return '[Truncated]';
      if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
      if (obj instanceof URL) return text(obj.href);
      if (obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)) {
        return `[binary ${(obj as ArrayBuffer | ArrayBufferView).byteLength} bytes]`;
      }
      seen.add(obj);
      try {
        if (obj instanceof Error) return visitError(obj, depth);
        if (Array.isArray(obj)) return obj.map((item) => visit(item, depth + 1) ?? null);
        if (obj instanceof Set) return [...obj].map((item) => visit(item, depth + 1) ?? null);
        if (obj instanceof Map) {
          return visitEntries(
            [...obj.entries()].map(([k, item]) => [String(k), item] as const),
            depth,
          );
        }
        const toJSON = (obj as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') return visit((toJSON as () => unknown).call(obj), depth + 1);
        return visitEntries(Object.entries(obj), depth);
      } finally {
        seen.delete(obj);
      }
    };

    const visitEntries = (entries: ReadonlyArray<readonly [string, unknown]>, depth: number) => {
      // No prototype: a `__proto__` key from parsed input stays an ordinary key.
      const out = Object.create(null) as Record<string, unknown>;
      for (const [key, item] of entries) {
        const safeKey = text(key);
        if (isSensitiveKey(key) && item !== null && item !== undefined) out[safeKey] = REDACTED;
        else {
          const redacted = visit(item, depth + 1);
          if (redacted !== undefined) out[safeKey] = redacted;
        }
      }
      return out;
    };

    const visitError = (error: Error, depth: number) => {
      const out: Record<string, unknown> = { name: text(String(error.name)) };
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' || typeof code === 'number') out.code = typeof code === 'string' ? text(code) : code;
      out.message = text(String(error.message));
      if (stacks && typeof error.stack === 'string') out.stack = text(error.stack);
      if (error.cause !== undefined) out.cause = visit(error.cause, depth + 1);
      if (error instanceof AggregateError && Array.isArray(error.errors)) {
        out.errors = error.errors.map((inner: unknown) => visit(inner, depth + 1) ?? null);
      }
      return out;
    };

    return visit(input, 0);
  };

  return { text, value };
}

// ---------------------------------------------------------------------------------------------
// Secrets from the environment
// ---------------------------------------------------------------------------------------------

/**
 * The values to mask in logs, from the environment variables a manifest references: each non-empty
 * value, and of a connection string also its password (as written and URL-decoded) and credential
 * parameters, so that the password alone is caught when a driver echoes it.
 */
export function secretValuesFromEnv(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const values = new Set<string>();
  const add = (value: string) => {
    if (value !== '') values.add(value);
  };
  for (const name of names) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    add(value);
    for (const secret of credentialValues(value)) add(secret);
  }
  return [...values];
}

// ---------------------------------------------------------------------------------------------
// Logger
// ---------------------------------------------------------------------------------------------

const CORE_KEYS = new Set(['time', 'level', 'msg', 'connector', 'version']);

export function createLogger(options: LoggerOptions): Logger {
  const level = options.level ?? 'info';
  if (!Object.hasOwn(LEVELS, level)) throw new TypeError(`unknown log level "${String(level)}"`);
  const stream = options.stream ?? process.stderr;
  const redactor = createRedactor(options.secrets ?? []);
  const stacks = level === 'debug';
  const threshold = LEVELS[level];
  const connector = redactor.text(options.connectorId);
  const version = redactor.text(options.version);

  const redactFields = (fields: LogFields): Readonly<Record<string, unknown>> => {
    try {
      // An error passed as the fields themselves is logged as `error`; any other non-object as `fields`.
      if (fields instanceof Error) return { error: redactor.value(fields, { stacks }) };
      const redacted = redactor.value(fields, { stacks });
      const isRecord = typeof redacted === 'object' && redacted !== null && !Array.isArray(redacted);
      return isRecord ? (redacted as Record<string, unknown>) : { fields: redacted };
    } catch {
      // A getter or toJSON that throws must not take the connector down with it.
      return { fields: '[unserializable]' };
    }
  };

  const build = (base: Readonly<Record<string, unknown>>): Logger => {
    const write = (lineLevel: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVELS[lineLevel] < threshold) return;
      const line: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, {
        time: new Date().toISOString(),
        level: lineLevel,
        msg: redactor.text(String(msg)),
        connector,
        version,
      });
      const own = fields === undefined ? {} : redactFields(fields);
      for (const source of [base, own]) {
        for (const [key, item] of Object.entries(source)) line[CORE_KEYS.has(key) ? `field_${key}` : key] = item;
      }
      const json = JSON.stringify(line);
      stream.write(`${json}\n`);
    };
    return {
      level,
      isLevelEnabled: (candidate) => LEVELS[candidate] >= threshold,
      debug: (msg, fields) => write('debug', msg, fields),
      info: (msg, fields) => write('info', msg, fields),
      warn: (msg, fields) => write('warn', msg, fields),
      error: (msg, fields) => write('error', msg, fields),
      child: (fields) => build({ ...base, ...redactFields(fields) }),
    };
  };
  return build({});
}

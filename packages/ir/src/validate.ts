import type { z } from 'zod';
import { ConnectorManifest } from './manifest.js';
import { closest, describeValue, formatPath, type JsonPath, type Problem } from './problem.js';
import { MAX_STRING_LENGTH, checkRules } from './rules.js';
import { pathOf, redactProblem, scanLiteralSecrets, walkDocument, type Place } from './secrets.js';

export type ValidationResult =
  | { readonly ok: true; readonly manifest: ConnectorManifest; readonly problems: readonly Problem[] }
  | { readonly ok: false; readonly problems: readonly Problem[] };

type Issue = z.core.$ZodIssue;

function valueAt(document: unknown, path: JsonPath): unknown {
  let value = document;
  for (const part of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

/** Keys a strict object accepts at `path`, read from the schema, for "did you mean" on unknown keys. */
function knownKeysAt(path: JsonPath): string[] {
  let schema: z.core.$ZodType | undefined = ConnectorManifest;
  for (const part of path) {
    schema = unwrap(schema);
    const def = schema?._zod.def as
      { type?: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType } | undefined;
    if (def?.type === 'object' && typeof part === 'string')
      schema = def.shape && Object.hasOwn(def.shape, part) ? def.shape[part] : undefined;
    else if (def?.type === 'array' && typeof part === 'number') schema = def.element;
    else return [];
  }
  const def = unwrap(schema)?._zod.def as { type?: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 8; depth++) {
    const def = current._zod.def as { type?: string; innerType?: z.core.$ZodType };
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'default') && def.innerType)
      current = def.innerType;
    else break;
  }
  return current;
}

function fromIssue(issue: Issue, document: unknown): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const value = valueAt(document, path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const suggestion = closest(key, knownKeysAt(path));
        return {
          code: 'unknown_key',
          severity: 'error',
          path: [...path, key],
          message: `unknown key ${describeValue(key)}`,
          ...(suggestion !== undefined ? { suggestion } : {}),
        } satisfies Problem;
      });
    case 'invalid_value': {
      const values = issue.values.map(String);
      const suggestion = typeof value === 'string' ? closest(value, values) : undefined;
      return [
        {
          code: 'invalid_enum',
          severity: 'error',
          path,
          message: value === undefined ? 'is required' : 'is not one of the allowed values',
          expected: `one of ${values.join(', ')}`,
          found: describeValue(value),
          ...(suggestion !== undefined ? { suggestion } : {}),
        },
      ];
    }
    case 'invalid_type':
      return [
        {
          code: value === undefined ? 'missing_field' : 'invalid_type',
          severity: 'error',
          path,
          message: value === undefined ? 'is required' : `must be ${article(issue.expected)}`,
          expected: issue.expected,
          found: describeValue(value),
        },
      ];
    default:
      return [
        {
          code: issue.code === 'too_small' || issue.code === 'too_big' ? 'out_of_range' : 'invalid_value',
          severity: 'error',
          path,
          message: issue.message,
          found: describeValue(value),
        },
      ];
  }
}

/** A problem for each string or key longer than {@link MAX_STRING_LENGTH}. */
function longStrings(document: unknown): Problem[] {
  const problems: Problem[] = [];
  const tooLong = (at: Place | undefined, length: number, what: string): void => {
    problems.push({
      code: 'too_long',
      severity: 'error',
      path: pathOf(at),
      message: `is ${what} of ${length} characters; a manifest holds at most ${MAX_STRING_LENGTH} in one`,
      expected: `at most ${MAX_STRING_LENGTH} characters`,
      found: `${length} characters`,
    });
  };
  walkDocument(document, {
    key(key, at) {
      if (key.length > MAX_STRING_LENGTH) tooLong(at, key.length, 'a key');
    },
    string(value, at) {
      if (value.length > MAX_STRING_LENGTH) tooLong(at, value.length, 'a string');
    },
  });
  return problems;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/**
 * Validates a parsed manifest document: structure, cross-field rules and literal secrets, all at once.
 * Never throws for any input; warnings do not make a manifest invalid. No problem repeats a credential
 * of the document: every text a problem carries goes through the IR's redactor.
 */
export function validateManifest(document: unknown): ValidationResult {
  try {
    return validate(document);
  } catch (error) {
    // Only a document that is not plain data gets here (a getter that throws, a revoked proxy).
    return {
      ok: false,
      problems: [
        redactProblem({
          code: 'unreadable',
          severity: 'error',
          path: [],
          message: `the document cannot be read as JSON data: ${error instanceof Error ? error.message : String(error)}`,
          expected: 'plain JSON/YAML data',
        }),
      ],
    };
  }
}

function validate(document: unknown): ValidationResult {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    return {
      ok: false,
      problems: [
        {
          code: 'invalid_type',
          severity: 'error',
          path: [],
          message: 'a manifest is a JSON/YAML object',
          expected: 'object',
          found: describeValue(document),
        },
      ],
    };
  }
  // Every further check reads the document with its credentials redacted, so none can repeat one.
  const tooLong = longStrings(document);
  const {
    problems: secrets,
    values: secretValues,
    document: subject,
  } = scanLiteralSecrets(document, { maxLength: MAX_STRING_LENGTH });
  // A spot that holds a credential, or a string too long to read, is reported once, by that problem.
  const secretPaths = new Set([...secrets, ...tooLong].map((p) => formatPath(p.path)));
  const rules = checkRules(subject).filter((p) => !secretPaths.has(formatPath(p.path)));
  // Where a rule explains a spot, its message is the better one: drop the structural problem there.
  const ruleErrorPaths = new Set(rules.filter((p) => p.severity === 'error').map((p) => formatPath(p.path)));
  const parsed = ConnectorManifest.safeParse(subject);
  const structural = parsed.success
    ? []
    : parsed.error.issues
        .flatMap((issue) => fromIssue(issue, subject))
        .filter(
          (p) =>
            !secretPaths.has(formatPath(p.path)) &&
            !(p.code === 'invalid_value' && ruleErrorPaths.has(formatPath(p.path))),
        );

  // A rule and the structural check can both notice one spot; keep the first of each path + message.
  // A warning at a path that already has an error only repeats it.
  const seen = new Set<string>();
  const all = [...secrets, ...tooLong, ...structural, ...rules];
  const errorPaths = new Set(all.filter((p) => p.severity === 'error').map((p) => formatPath(p.path)));
  const problems = all
    .filter((p) => {
      const key = `${formatPath(p.path)}\u0000${p.message}`;
      if (seen.has(key) || (p.severity === 'warning' && errorPaths.has(formatPath(p.path)))) return false;
      seen.add(key);
      return true;
    })
    .map((p) => redactProblem(p, secretValues));
  const hasError = problems.some((p) => p.severity === 'error');
  if (parsed.success && !hasError) return { ok: true, manifest: parsed.data, problems };
  return { ok: false, problems };
}

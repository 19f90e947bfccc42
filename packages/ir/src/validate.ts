import { z } from 'zod';
import { ConnectorManifest, ScheduleSpec, Source } from './manifest.js';
import { closest, describeValue, formatPath, shortText, type JsonPath, type Problem } from './problem.js';
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

type Def = {
  type?: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
  discriminator?: string;
};

const defOf = (schema: z.core.$ZodType | undefined): Def | undefined => schema?._zod.def as Def | undefined;

/** The shape of each variant of a discriminated union, by its discriminator value. */
function variants(union: z.core.$ZodType): Map<string, Record<string, z.core.$ZodType>> {
  const { options = [], discriminator = '' } = defOf(union) ?? {};
  const byValue = new Map<string, Record<string, z.core.$ZodType>>();
  for (const option of options) {
    const shape = defOf(option)?.shape ?? {};
    const values = (shape[discriminator]?._zod.def as { values?: unknown[] } | undefined)?.values ?? [];
    for (const value of values) byValue.set(String(value), shape);
  }
  return byValue;
}

/**
 * The shape a discriminated union applies to `value`: its variant's, or, when `value` names none, every
 * variant's keys together (what any kind accepts).
 */
function shapeOf(union: z.core.$ZodType, value: unknown): Record<string, z.core.$ZodType> {
  const { discriminator = '' } = defOf(union) ?? {};
  const kind =
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[discriminator] : undefined;
  const all = variants(union);
  const own = typeof kind === 'string' ? all.get(kind) : undefined;
  return own ?? Object.assign({}, ...[...all.values()].reverse());
}

/** Keys a strict object accepts at `path` (of the variant the document chose), for "did you mean" on unknown keys. */
function knownKeysAt(path: JsonPath, document: unknown): string[] {
  let schema: z.core.$ZodType | undefined = ConnectorManifest;
  const shapeAt = (at: z.core.$ZodType | undefined, depth: number): Record<string, z.core.$ZodType> | undefined => {
    const def = defOf(unwrap(at));
    if (def?.type === 'object') return def.shape;
    if (def?.type === 'union' && def.discriminator !== undefined)
      return shapeOf(unwrap(at)!, valueAt(document, path.slice(0, depth)));
    return undefined;
  };
  for (const [depth, part] of path.entries()) {
    const shape = shapeAt(schema, depth);
    const def = defOf(unwrap(schema));
    if (shape && typeof part === 'string') schema = Object.hasOwn(shape, part) ? shape[part] : undefined;
    else if (def?.type === 'array' && typeof part === 'number') schema = def.element;
    else return [];
  }
  return Object.keys(shapeAt(schema, path.length) ?? {});
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

/** The sections told apart by their `type`, with the noun a message calls them by. */
const KINDED_SECTIONS = new Map<string, { readonly union: z.core.$ZodType; readonly noun: string }>([
  ['source', { union: Source, noun: 'source' }],
  ['schedule', { union: ScheduleSpec, noun: 'schedule' }],
]);

/** What a field a kind needs looks like, for the problem that says it is missing. */
const NEEDED_FIELD_HINTS = new Map<string, string>([
  ['source.jdbc.connectionString', 'an env-var reference such as ${POSTGRES_CONNECTION_STRING}'],
  ['source.stream.connectionString', 'broker addresses such as bootstrap.servers=${KAFKA_BROKERS}'],
  ['source.rest_api.baseUrl', 'the API base URL, e.g. https://api.example.com/v1'],
  ['source.graphql.baseUrl', 'the GraphQL endpoint URL, e.g. https://api.example.com/graphql'],
  ['schedule.cron.expression', 'a cron expression such as "0 */15 * * * *"'],
  ['schedule.interval.intervalSeconds', 'a whole number of seconds such as 900'],
  ['schedule.event.eventSource', 'the webhook path or topic that triggers a run'],
]);

/**
 * Every field any kind of a section accepts, all optional and `type` one of the kinds: what a section whose
 * `type` names no kind is checked against, so its other mistakes are reported in the same pass.
 */
function anyKind(union: z.core.$ZodType): z.ZodType {
  const { discriminator = 'type' } = defOf(union) ?? {};
  const all = variants(union);
  const shape: Record<string, z.ZodType> = {};
  for (const variant of [...all.values()].reverse()) {
    for (const [key, field] of Object.entries(variant)) shape[key] = (field as z.ZodType).optional();
  }
  shape[discriminator] = z.enum([...all.keys()] as [string, ...string[]]);
  return z.strictObject(shape);
}

const ANY_KIND = new Map([...KINDED_SECTIONS].map(([name, { union }]) => [name, anyKind(union)]));

/**
 * The kinded section a path names a key of, with its kind as the document names it, when that key is not
 * common to every kind (a key every kind has, such as `auth`, says nothing about the kind).
 */
function kindedSection(path: JsonPath, document: unknown) {
  if (path.length !== 2 || typeof path[0] !== 'string' || typeof path[1] !== 'string') return undefined;
  const section = KINDED_SECTIONS.get(path[0]);
  if (!section) return undefined;
  const key = path[1];
  if ([...variants(section.union).values()].every((shape) => Object.hasOwn(shape, key))) return undefined;
  const kind = valueAt(document, [path[0], 'type']);
  return typeof kind === 'string' ? { name: path[0], key, kind, ...section } : undefined;
}

/** The issues of the section at `path` checked as any kind: its `type` names none. */
function anyKindIssues(path: JsonPath, document: unknown): Issue[] {
  const name = path.length === 1 && typeof path[0] === 'string' ? path[0] : undefined;
  const schema = name !== undefined ? ANY_KIND.get(name) : undefined;
  if (!schema) return [];
  const parsed = schema.safeParse(valueAt(document, path));
  return parsed.success ? [] : parsed.error.issues.map((issue) => ({ ...issue, path: [...path, ...issue.path] }));
}

function fromIssue(issue: Issue, document: unknown): Problem[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const value = valueAt(document, path);
  switch (issue.code) {
    case 'invalid_union':
      // A `type` that names no kind: check the section as any kind, which reports the type with its
      // allowed values (and a "did you mean") and every other mistake in the section.
      if (issue.discriminator !== undefined && issue.errors.length === 0)
        return anyKindIssues(path.slice(0, -1), document).flatMap((inner) => fromIssue(inner, document));
      break;
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const suggestion = closest(key, knownKeysAt(path, document));
        const other = kindedSection([...path, key], document);
        const elsewhere = other
          ? [...variants(other.union)].filter(([, shape]) => Object.hasOwn(shape, key)).map(([kind]) => kind)
          : [];
        if (other && elsewhere.length > 0) {
          return {
            code: 'unknown_key',
            severity: 'error',
            path: [...path, key],
            message: `is not a setting of ${article(shortText(other.kind))} ${other.noun}`,
            expected: `only with ${other.noun} type ${elsewhere.join(' or ')}`,
          } satisfies Problem;
        }
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
    case 'invalid_type': {
      const section = value === undefined ? kindedSection(path, document) : undefined;
      if (section) {
        const hint = NEEDED_FIELD_HINTS.get(`${section.name}.${section.kind}.${section.key}`);
        const needs = section.name === 'source' ? article(section.key) : section.key;
        return [
          {
            code: 'missing_field',
            severity: 'error',
            path,
            message: `${article(shortText(section.kind))} ${section.noun} needs ${needs}`,
            ...(hint !== undefined ? { expected: hint } : { expected: issue.expected }),
          },
        ];
      }
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
    }
  }
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

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
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

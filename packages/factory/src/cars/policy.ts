import { access, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { closest, describeValue, formatPath, type JsonPath } from '@connector-factory/ir';
import { FactoryError } from '../errors.js';
import { factoryHome } from '../home.js';
import { parseStructuredText, type TextPosition } from '../source-text.js';
import type { Environment, RiskLevel } from '../records/index.js';

/** viewer: read-only; operator: runs the agents (discover … deploy); admin: also approves and certifies. */
export type Role = 'viewer' | 'operator' | 'admin';
export const RISK_LEVELS: readonly RiskLevel[] = ['low', 'medium', 'high', 'critical'];

/** What a risk level asks for before an action at that level may go ahead. */
export interface LevelRequirement {
  /** Distinct approvers needed; 0: none, the action goes ahead. */
  readonly approvals: number;
  readonly approverRoles: readonly Role[];
  /** As written, e.g. `24h`. */
  readonly expiresAfter: string;
  readonly expiresAfterMs: number;
}

/** Who may do what, and what each risk level needs. */
export interface Policy {
  /** The file it was read from; null for the built-in policy (no policy file). */
  readonly file: string | null;
  /** The role of an actor the `roles` map does not name. */
  readonly defaultRole: Role;
  readonly roles: Readonly<Record<string, Role>>;
  readonly levels: Readonly<Record<RiskLevel, LevelRequirement>>;
  /** Risk overrides by `action` or `action:environment` (the latter wins). */
  readonly actions: Readonly<Record<string, RiskLevel>>;
}

const DURATION = /^([1-9]\d*)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function durationMs(text: string): number {
  const [, amount, unit] = DURATION.exec(text)!;
  return Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
}

function level(approvals: number, approverRoles: readonly Role[], expiresAfter = '24h'): LevelRequirement {
  return { approvals, approverRoles, expiresAfter, expiresAfterMs: durationMs(expiresAfter) };
}

const DEFAULT_LEVELS: Record<RiskLevel, LevelRequirement> = {
  low: level(0, ['admin']),
  medium: level(0, ['admin']),
  high: level(1, ['admin']),
  critical: level(2, ['admin']),
};

/**
 * The policy without a policy file: everyone is admin (a single-user install just works) and the
 * default levels apply: high needs one admin's approval, critical two, each within 24 hours.
 */
export const DEFAULT_POLICY: Policy = {
  file: null,
  defaultRole: 'admin',
  roles: {},
  levels: DEFAULT_LEVELS,
  actions: {},
};

/** Actions whose risk depends on the environment they touch. */
const ENVIRONMENT_ACTIONS = new Set(['deploy', 'undeploy', 'rollback']);
const ENVIRONMENT_RISK: Record<Environment, RiskLevel> = { dev: 'medium', staging: 'medium', prod: 'high' };
const ACTION_RISK: Readonly<Record<string, RiskLevel>> = {
  discover: 'low',
  extract_schema: 'low',
  generate: 'medium',
  approve: 'low',
  reject: 'low',
  // The Monitor agent only reads (spec: LOW); what it does to a connector is a pause, undone by resume.
  monitor: 'low',
  detect_drift: 'low',
  pause: 'medium',
  resume: 'medium',
  certify: 'medium',
  // Deletes lake rows, files and quarantine past the manifest's own governance.retentionDays.
  enforce_retention: 'medium',
  // A connection URL changed under a running connector redirects it on its next start.
  set_secret: 'medium',
  remove_secret: 'medium',
};

/**
 * The risk level of an action: the policy's override for `action:environment`, else for `action`, else
 * the default (deploy/undeploy/rollback: dev and staging medium, prod high). An action the factory does
 * not know, or an environment-bound one without its environment, is high: unknown means careful.
 */
export function riskOf(policy: Policy, action: string, environment?: Environment): RiskLevel {
  const override =
    (environment !== undefined ? policy.actions[`${action}:${environment}`] : undefined) ?? policy.actions[action];
  if (override !== undefined) return override;
  if (ENVIRONMENT_ACTIONS.has(action)) return environment !== undefined ? ENVIRONMENT_RISK[environment] : 'high';
  return ACTION_RISK[action] ?? 'high';
}

const ACTOR_NAME = /^[A-Za-z0-9._@+-]{1,128}$/;

const roleSchema = z.enum(['viewer', 'operator', 'admin']);
const levelSchema = z.strictObject({
  approvals: z.int().min(0).max(10).optional(),
  approverRoles: z
    .array(z.enum(['operator', 'admin'], { error: 'viewers are read-only: an approver role is operator or admin' }))
    .min(1, 'name at least one role that may approve')
    .optional(),
  expiresAfter: z.string().regex(DURATION, 'is a duration: a whole number and s, m, h or d, such as 24h').optional(),
});
const policySchema = z.strictObject({
  defaultRole: roleSchema.optional(),
  roles: z
    .record(z.string().regex(ACTOR_NAME, 'is not an actor name (letters, digits and . _ @ + -)'), roleSchema)
    .optional(),
  levels: z
    .strictObject({
      low: levelSchema.optional(),
      medium: levelSchema.optional(),
      high: levelSchema.optional(),
      critical: levelSchema.optional(),
    })
    .optional(),
  actions: z
    .record(
      z
        .string()
        .regex(
          /^[a-z][a-z_]*(?::(?:dev|staging|prod))?$/,
          'is not an action (such as deploy) or action:environment (such as deploy:prod)',
        ),
      z.enum(['low', 'medium', 'high', 'critical']),
    )
    .optional(),
});

const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': ['defaultRole', 'roles', 'levels', 'actions'],
  levels: RISK_LEVELS,
};
const LEVEL_KEYS = ['approvals', 'approverRoles', 'expiresAfter'];

/**
 * The policy in force: the file given (`--policy`), else `CONNECTOR_FACTORY_POLICY`, else
 * `<factory home>/policy.yaml` when it exists, else DEFAULT_POLICY. A named file must exist.
 */
export async function loadPolicy(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Policy> {
  const env = options.env ?? process.env;
  const named = options.file ?? (env['CONNECTOR_FACTORY_POLICY'] || undefined);
  let file = named;
  if (file === undefined) {
    const fallback = join(factoryHome(env), 'policy.yaml');
    const exists = await access(fallback).then(
      () => true,
      () => false,
    );
    if (!exists) return DEFAULT_POLICY;
    file = fallback;
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new FactoryError('not_found', `${file}: cannot read the policy: ${reason}`, [], { cause: error });
  }
  return parsePolicy(text, file);
}

/**
 * Parses and validates policy text (YAML, or JSON for a .json file). Throws FactoryError('invalid_input')
 * whose message names the file, line, column and field of the first problem; the others are its details.
 */
export function parsePolicy(text: string, file: string): Policy {
  const format = extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
  const parsed = parseStructuredText(text, format);
  if (!parsed.ok) {
    throw new FactoryError(
      'invalid_input',
      `${where(file, parsed.position)}: invalid ${format.toUpperCase()}: ${parsed.message}`,
    );
  }
  const document = parsed.value ?? {}; // an empty file is the default policy
  const result = policySchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues
      .flatMap((issue) => describeIssue(issue, document))
      .map(({ path, message }) => ({ path, message, position: parsed.positionOf(path) }))
      .sort(
        (a, b) =>
          (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.column ?? 0) - (b.position?.column ?? 0),
      )
      .map(({ path, message, position }) => `${where(file, position)}: ${formatPath(path)}: ${message}`);
    throw new FactoryError('invalid_input', `invalid policy: ${problems[0]!}`, problems.slice(1));
  }
  const value = result.data;
  const levels = { ...DEFAULT_LEVELS };
  for (const risk of RISK_LEVELS) {
    const given = value.levels?.[risk];
    if (!given) continue;
    const base = DEFAULT_LEVELS[risk];
    levels[risk] = level(
      given.approvals ?? base.approvals,
      given.approverRoles ?? base.approverRoles,
      given.expiresAfter ?? base.expiresAfter,
    );
  }
  return {
    file,
    // A policy file manages roles: someone it does not name may look, not act.
    defaultRole: value.defaultRole ?? 'viewer',
    roles: value.roles ?? {},
    levels,
    actions: value.actions ?? {},
  };
}

function where(file: string, position: TextPosition | undefined): string {
  return position ? `${file}:${position.line}:${position.column}` : file;
}

function valueAt(document: unknown, path: JsonPath): unknown {
  let value = document;
  for (const part of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value;
}

function describeIssue(issue: z.core.$ZodIssue, document: unknown): { path: JsonPath; message: string }[] {
  const path = issue.path.filter((part): part is string | number => typeof part !== 'symbol');
  const value = valueAt(document, path);
  const found = describeValue(value);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = path.length === 2 && path[0] === 'levels' ? LEVEL_KEYS : (KNOWN_KEYS[path.join('.')] ?? []);
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        const hint =
          suggestion !== undefined ? `; did you mean "${suggestion}"?` : ` (expected one of ${known.join(', ')})`;
        return { path: [...path, key], message: `unknown key "${key}"${hint}` };
      });
    }
    case 'invalid_value': {
      if (value === undefined) return [{ path, message: 'is required' }];
      if (path.includes('approverRoles')) {
        return [{ path, message: `viewers are read-only: an approver role is operator or admin, found ${found}` }];
      }
      const values = issue.values.map(String);
      const suggestion = typeof value === 'string' ? closest(value, values) : undefined;
      const hint = suggestion !== undefined ? `; did you mean "${suggestion}"?` : '';
      return [{ path, message: `expected one of ${values.join(', ')}, found ${found}${hint}` }];
    }
    case 'invalid_type': {
      // The one number in a policy is a count of approvals.
      const expected =
        issue.expected === 'number' || issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`;
      return [{ path, message: value === undefined ? 'is required' : `must be ${expected}, found ${found}` }];
    }
    case 'invalid_key':
      return [{ path, message: `${issue.issues[0]?.message ?? 'is not allowed here'}` }];
    default:
      return [{ path, message: `${issue.message}, found ${found}` }];
  }
}

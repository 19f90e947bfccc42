import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  FactoryError,
  loadPolicy,
  parsePolicy,
  requireRole,
  resolveActor,
  riskOf,
} from '@connector-factory/factory';

const dir = () => mkdtempSync(join(tmpdir(), 'cf-policy-'));

function policyError(text: string, file = 'policy.yaml'): FactoryError {
  try {
    parsePolicy(text, file);
  } catch (error) {
    if (error instanceof FactoryError) return error;
    throw error;
  }
  throw new Error('the policy was accepted');
}

describe('the policy', () => {
  it('defaults to everyone admin with the built-in levels when there is no policy file', async () => {
    const home = dir();
    const policy = await loadPolicy({ env: { CONNECTOR_FACTORY_HOME: home } });
    expect(policy).toBe(DEFAULT_POLICY);
    expect(policy.defaultRole).toBe('admin');
    expect(policy.levels.high).toMatchObject({ approvals: 1, approverRoles: ['admin'], expiresAfterMs: 86_400_000 });
    expect(policy.levels.critical.approvals).toBe(2);
    expect(policy.levels.medium.approvals).toBe(0);
  });

  it('gives each action its default risk, and the policy overrides it', () => {
    const risk = (action: string, environment?: 'dev' | 'staging' | 'prod') =>
      riskOf(DEFAULT_POLICY, action, environment);
    expect([risk('discover'), risk('extract_schema'), risk('generate'), risk('approve'), risk('reject')]).toEqual([
      'low',
      'low',
      'medium',
      'low',
      'low',
    ]);
    expect([risk('deploy', 'dev'), risk('deploy', 'staging'), risk('deploy', 'prod')]).toEqual([
      'medium',
      'medium',
      'high',
    ]);
    expect(risk('undeploy', 'prod')).toBe('high');
    expect(risk('deploy')).toBe('high');
    expect(risk('launch_missiles')).toBe('high');
    const policy = parsePolicy('actions:\n  deploy: low\n  deploy:prod: critical\n  generate: high\n', 'p.yaml');
    expect(riskOf(policy, 'deploy', 'prod')).toBe('critical');
    expect(riskOf(policy, 'deploy', 'dev')).toBe('low');
    expect(riskOf(policy, 'generate')).toBe('high');
  });

  it('reads <home>/policy.yaml, CONNECTOR_FACTORY_POLICY or the file given, in that order of precedence', async () => {
    const home = dir();
    writeFileSync(join(home, 'policy.yaml'), 'defaultRole: operator\n');
    const other = join(home, 'other.json');
    writeFileSync(other, '{"defaultRole": "admin", "roles": {"bob": "viewer"}}');
    const third = join(home, 'third.yml');
    writeFileSync(third, 'roles:\n  carol: admin\n');
    expect((await loadPolicy({ env: { CONNECTOR_FACTORY_HOME: home } })).defaultRole).toBe('operator');
    const fromEnv = await loadPolicy({ env: { CONNECTOR_FACTORY_HOME: home, CONNECTOR_FACTORY_POLICY: other } });
    expect(fromEnv).toMatchObject({ file: other, defaultRole: 'admin', roles: { bob: 'viewer' } });
    const given = await loadPolicy({ file: third, env: { CONNECTOR_FACTORY_POLICY: other } });
    // A policy file manages roles: whoever it does not name may only look.
    expect(given).toMatchObject({ file: third, defaultRole: 'viewer', roles: { carol: 'admin' } });
    await expect(loadPolicy({ file: join(home, 'missing.yaml') })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/missing\.yaml: cannot read the policy: no such file/),
    });
  });

  it('merges the levels a policy sets with the defaults', () => {
    const policy = parsePolicy(
      'levels:\n  high:\n    approvals: 2\n    expiresAfter: 30m\n  medium:\n    approvals: 1\n    approverRoles: [operator, admin]\n',
      'p.yaml',
    );
    expect(policy.levels.high).toEqual({
      approvals: 2,
      approverRoles: ['admin'],
      expiresAfter: '30m',
      expiresAfterMs: 1_800_000,
    });
    expect(policy.levels.medium).toMatchObject({ approvals: 1, approverRoles: ['operator', 'admin'] });
    expect(policy.levels.critical).toEqual(DEFAULT_POLICY.levels.critical);
    expect(parsePolicy('', 'empty.yaml').levels).toEqual(DEFAULT_POLICY.levels);
  });

  it('names file, line, column and field of each mistake', () => {
    const text = [
      'defaultRole: admin',
      'roles:',
      '  alice: admin',
      '  bob: superuser',
      'levels:',
      '  high:',
      '    approvals: one',
      '    approverRoles: [viewer]',
      '    expiresAfter: 1 day',
      '  critcal:',
      '    approvals: 3',
      'action:',
      '  deploy: high',
    ].join('\n');
    const error = policyError(text);
    expect(error.code).toBe('invalid_input');
    const lines = [error.message, ...error.details];
    expect(lines).toEqual([
      expect.stringMatching(
        /^invalid policy: policy\.yaml:4:3: roles\.bob: expected one of viewer, operator, admin, found "superuser"/,
      ),
      expect.stringMatching(/^policy\.yaml:7:5: levels\.high\.approvals: must be a whole number, found "one"$/),
      'policy.yaml:8:21: levels.high.approverRoles[0]: viewers are read-only: an approver role is operator or admin, found "viewer"',
      expect.stringMatching(
        /^policy\.yaml:9:5: levels\.high\.expiresAfter: is a duration: .* such as 24h, found "1 day"$/,
      ),
      'policy.yaml:10:3: levels.critcal: unknown key "critcal"; did you mean "critical"?',
      'policy.yaml:12:1: action: unknown key "action"; did you mean "actions"?',
    ]);
  });

  it('reports syntax errors in YAML and JSON with their position', () => {
    expect(policyError('roles:\n  alice: admin\n   bob: admin\n').message).toMatch(
      /^policy\.yaml:2:\d+: invalid YAML: /,
    );
    expect(policyError('{\n  "roles": {"alice": "admin",}\n}\n', 'policy.json').message).toMatch(
      /^policy\.json:2:\d+: invalid JSON: /,
    );
    expect(policyError('actions:\n  Deploy: high\n').message).toMatch(
      /policy\.yaml:2:3: actions\.Deploy: is not an action/,
    );
  });
});

describe('the actor', () => {
  const policy = parsePolicy('defaultRole: viewer\nroles:\n  alice: admin\n  bob: operator\n', '/etc/cf/policy.yaml');

  it('comes from --actor, else CONNECTOR_FACTORY_ACTOR, else the OS user; the role from the policy', () => {
    expect(resolveActor({ flag: 'alice', env: { CONNECTOR_FACTORY_ACTOR: 'bob' }, policy })).toEqual({
      name: 'alice',
      role: 'admin',
      source: 'flag',
      roleSource: 'roles in /etc/cf/policy.yaml',
    });
    expect(resolveActor({ env: { CONNECTOR_FACTORY_ACTOR: 'bob' }, policy })).toMatchObject({
      name: 'bob',
      role: 'operator',
      source: 'env',
    });
    expect(resolveActor({ env: {}, policy })).toMatchObject({
      name: userInfo().username,
      source: 'os',
      roleSource: 'defaultRole of /etc/cf/policy.yaml',
    });
    expect(resolveActor({ flag: 'zed', env: {}, policy: DEFAULT_POLICY })).toMatchObject({
      role: 'admin',
      roleSource: 'defaultRole of the built-in policy',
    });
    expect(() => resolveActor({ flag: 'rm -rf /', env: {}, policy })).toThrow(
      /--actor: "rm -rf \/" is not an actor name/,
    );
  });

  it('requireRole refuses a lesser role with forbidden, naming where the role came from', () => {
    const viewer = resolveActor({ flag: 'eve', env: {}, policy });
    const admin = resolveActor({ flag: 'alice', env: {}, policy });
    expect(() => requireRole(admin, 'operator', 'deploying')).not.toThrow();
    const error = (() => {
      try {
        requireRole(viewer, 'operator', 'deploying connector_x to prod');
      } catch (e) {
        return e as FactoryError;
      }
      throw new Error('allowed');
    })();
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe(
      'deploying connector_x to prod needs the operator role; eve is viewer (from the defaultRole of /etc/cf/policy.yaml)',
    );
  });
});

describe('policy home', () => {
  it('ignores a missing home folder', async () => {
    const home = join(dir(), 'not', 'there');
    expect(await loadPolicy({ env: { CONNECTOR_FACTORY_HOME: home } })).toBe(DEFAULT_POLICY);
  });
});

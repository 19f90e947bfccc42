import { requireRole } from '../../cars/actor.js';
import { FactoryError } from '../../errors.js';
import type { DeploymentRecord } from '../../store/state-store.js';
import type { DeployContext } from './deploy.js';
import { findDeployments } from './undeploy.js';
import { waitForHealthy } from './wait-for-healthy.js';

/**
 * Starts a paused deployment again (after the breaking drift or the SLO breach that paused it was
 * dealt with) with the variables of `env`, and waits for it to be healthy. Throws 'not_found' when
 * nothing of `ref` is paused, 'deploy_failed' when it does not become healthy (it stays paused).
 */
export async function resumeDeployment(
  ref: string,
  context: DeployContext,
  options: { readonly env?: NodeJS.ProcessEnv; readonly healthTimeoutMs?: number } = {},
): Promise<DeploymentRecord> {
  requireRole(context.actor, 'operator', `resuming ${ref}`);
  const record = (await findDeployments(context, ref)).find((candidate) => candidate.status === 'paused');
  if (!record)
    throw new FactoryError('not_found', `nothing of ${ref} is paused; see \`connector-factory deployments\``);
  const env = options.env ?? process.env;
  const missing = record.envNames.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new FactoryError(
      'invalid_input',
      `${record.connectorId} reads ${missing.join(', ')} from the environment: set it before resuming`,
    );
  }
  const port = record.endpoint !== null ? Number(new URL(record.endpoint).port) : 0;
  const started = await context.target.start({
    deploymentId: record.id,
    connectorId: record.connectorId,
    version: record.version,
    environment: record.environment,
    packageDir: record.packageDir,
    workingDir: record.workingDir,
    env: Object.fromEntries(record.envNames.map((name) => [name, env[name]!])),
    ...(port > 0 ? { port } : {}),
  });
  const health = await waitForHealthy(context.target, record.id, { timeoutMs: options.healthTimeoutMs ?? 60_000 });
  const riskLevel = context.cars.riskOf('resume');
  if (!health.healthy) {
    await context.target.stop(record.id);
    await context.audit.record({
      action: 'resume',
      agent: 'deploy',
      actor: context.actor.name,
      resource: record.connectorId,
      riskLevel,
      inputs: {},
      outputs: {},
      result: 'failure',
      details: { deploymentId: record.id, error: health.reason },
    });
    throw new FactoryError(
      'deploy_failed',
      `${record.connectorId} did not become healthy again (${health.reason}); it stays paused`,
    );
  }
  const resumed = await context.store.deployments.update(record.id, {
    status: 'healthy',
    lastError: null,
    endpoint: started.endpoint,
    healthUrl: started.healthUrl,
  });
  await context.audit.record({
    action: 'resume',
    agent: 'deploy',
    actor: context.actor.name,
    resource: record.connectorId,
    riskLevel,
    inputs: {},
    outputs: {},
    result: 'success',
    details: { deploymentId: record.id },
  });
  return resumed;
}

import { requireRole } from '../../cars/actor.js';
import { FactoryError } from '../../errors.js';
import { missingVariablesHint, withStoredSecrets } from '../../secrets/secret-store.js';
import type { DeploymentRecord } from '../../records/index.js';
import { instanceSpecOf } from './deploy-target.js';
import type { DeployContext } from './deploy.js';
import { findDeployments } from './undeploy.js';
import { waitForHealthy } from './wait-for-healthy.js';

/**
 * Starts a paused deployment again (after the breaking drift or the SLO breach that paused it was
 * dealt with) with the variables of `env` (else of the secret store), and waits for it to be healthy.
 * Throws 'not_found' when nothing of `ref` is paused, 'deploy_failed' when it does not become healthy
 * (it stays paused).
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
  const env = await withStoredSecrets(options.env ?? process.env, record.envNames, { home: context.home });
  const { spec, missing } = instanceSpecOf(record, env);
  if (spec === undefined) {
    throw new FactoryError(
      'invalid_input',
      `${record.connectorId} reads ${missing.join(', ')}, which neither the environment nor the secret store holds: ${missingVariablesHint(missing)}`,
    );
  }
  const started = await context.target.start(spec);
  const health = await waitForHealthy(context.target, record.id, { timeoutMs: options.healthTimeoutMs ?? 60_000 });
  const receipt = (result: 'success' | 'failure', details: Record<string, unknown>) =>
    context.audit.record({
      action: 'resume',
      agent: 'deploy',
      actor: context.actor.name,
      resource: record.connectorId,
      riskLevel: context.cars.riskOf('resume'),
      inputs: {},
      outputs: {},
      result,
      details: { deploymentId: record.id, ...details },
    });
  if (!health.healthy) {
    await context.target.stop(record.id);
    await receipt('failure', { error: health.reason });
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
  await receipt('success', {});
  return resumed;
}

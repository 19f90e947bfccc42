import { requireRole } from '../../cars/actor.js';
import { FactoryError } from '../../errors.js';
import type { DeploymentRecord, DeploymentStatus, Environment } from '../../records/index.js';
import { ACTIVE_STATUSES, type DeployContext } from './deploy.js';

const RUNNING_OR_PAUSED: readonly DeploymentStatus[] = [...ACTIVE_STATUSES, 'paused', 'awaiting_approval'];

/** The deployments a name refers to: a deployment id, or a connector id (in one environment when given). */
export async function findDeployments(
  context: Pick<DeployContext, 'store'>,
  ref: string,
  environment?: Environment,
): Promise<DeploymentRecord[]> {
  const byId = await context.store.deployments.get(ref);
  if (byId) return [byId];
  return context.store.deployments.list({
    connectorId: ref,
    statuses: RUNNING_OR_PAUSED,
    ...(environment ? { environment } : {}),
  });
}

/**
 * Stops a connector's deployments (or one deployment) on its target and records them as stopped,
 * through the same CARS gate as a deploy of that environment. Throws 'not_found' when nothing runs.
 */
export async function undeployConnector(
  ref: string,
  context: DeployContext,
  options: { readonly environment?: Environment } = {},
): Promise<DeploymentRecord[]> {
  const records = (await findDeployments(context, ref, options.environment)).filter((record) =>
    RUNNING_OR_PAUSED.includes(record.status),
  );
  if (records.length === 0) {
    throw new FactoryError(
      'not_found',
      `nothing of ${ref} is deployed${options.environment ? ` in ${options.environment}` : ''}; see \`connector-factory deployments\``,
    );
  }
  requireRole(context.actor, 'operator', `undeploying ${ref}`);
  const stopped: DeploymentRecord[] = [];
  for (const record of records) {
    const riskLevel = context.cars.riskOf('undeploy', record.environment);
    const resource = `${record.connectorId}@${record.environment}`;
    const approved = await context.cars.findApproved('undeploy', resource);
    if (!approved) {
      const request = await context.cars.requestApproval({
        action: 'undeploy',
        resource,
        riskLevel,
        requestedBy: context.actor.name,
        evidence: {
          deploymentId: record.id,
          connectorId: record.connectorId,
          version: record.version,
          environment: record.environment,
        },
      });
      if (request !== null && request.status !== 'approved') {
        throw new FactoryError(
          'approval_required',
          `undeploying ${record.connectorId} from ${record.environment} is ${riskLevel} risk and needs approval ${request.id}: ` +
            `an approver runs \`connector-factory approvals approve ${request.id}\`, then run this undeploy again`,
        );
      }
    }
    await context.target.stop(record.id);
    stopped.push(await context.store.deployments.update(record.id, { status: 'stopped' }));
    await context.audit.record({
      action: 'undeploy',
      agent: 'deploy',
      actor: context.actor.name,
      resource: record.connectorId,
      riskLevel,
      inputs: { package: record.packageDigest },
      outputs: {},
      result: 'success',
      details: { deploymentId: record.id, environment: record.environment, version: record.version },
    });
  }
  return stopped;
}

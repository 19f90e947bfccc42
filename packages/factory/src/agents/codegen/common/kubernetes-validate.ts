import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { FactoryError } from '../../../errors.js';

interface Validatable {
  validate(): void;
}

const MODELS: Readonly<Record<string, (data: never) => Validatable>> = {
  'apps/v1 Deployment': (data) => new Deployment(data),
  'batch/v1 CronJob': (data) => new CronJob(data),
  'networking.k8s.io/v1 NetworkPolicy': (data) => new NetworkPolicy(data),
  'v1 ConfigMap': (data) => new ConfigMap(data),
  'v1 Service': (data) => new Service(data),
};

/**
 * Validates a Kubernetes object against the API's OpenAPI schema (kubernetes-models); throws a
 * FactoryError naming the object and the first violations. Kinds the package never emits are refused.
 */
export function validateKubernetesObject(object: unknown): void {
  const { apiVersion, kind, metadata } = (object ?? {}) as {
    apiVersion?: unknown;
    kind?: unknown;
    metadata?: { name?: unknown };
  };
  const key = `${String(apiVersion)} ${String(kind)}`;
  const model = Object.hasOwn(MODELS, key) ? MODELS[key] : undefined;
  if (model === undefined) throw new FactoryError('internal', `no schema for Kubernetes ${key}`);
  try {
    model(object as never).validate();
  } catch (error) {
    throw new FactoryError(
      'internal',
      `Kubernetes ${kind} ${String(metadata?.name)} is invalid: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    );
  }
}

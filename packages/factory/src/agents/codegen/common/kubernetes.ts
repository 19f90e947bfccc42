import { connectorNodeFlags } from '@connector-factory/runtime/node-flags';
import { posix } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { ICronJob } from 'kubernetes-models/batch/v1/CronJob';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import type { CodegenContext, SourceProfile } from '../template.js';
import { ALTERNATIVE_SCHEDULE } from './schedule.js';

/** Where things live in the image and the pod (the Dockerfile makes the same choices). */
export const CONTAINER = {
  workdir: '/app',
  stateDir: '/var/lib/connector',
  port: 8080,
  user: 10001,
} as const;

export type KubernetesObject = ICronJob | IDeployment | IService | IConfigMap | INetworkPolicy;

/** One YAML file of the package: its objects and a header comment. */
export interface KubernetesFile {
  readonly path: string;
  readonly header: readonly string[];
  readonly objects: readonly KubernetesObject[];
}

/**
 * The container path of a local lake folder, when one can be mounted there: relative paths are
 * relative to the app folder; nothing is mounted over the app, the state folder or system folders,
 * and paths with `${VARS}` or on S3 need no mount.
 */
export function localLakeMount(lakePath: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(lakePath) && !lakePath.startsWith('file://')) return undefined;
  if (lakePath.includes('${')) return undefined;
  let path = lakePath;
  if (lakePath.startsWith('file://')) {
    try {
      path = decodeURIComponent(new URL(lakePath).pathname);
    } catch {
      return undefined;
    }
  }
  const absolute = posix.normalize(posix.isAbsolute(path) ? path : posix.join(CONTAINER.workdir, path));
  const clean = absolute.length > 1 ? absolute.replace(/\/+$/, '') : absolute;
  const reserved =
    /^\/(?:app\/(?:dist|node_modules|vendor|manifest\.json)|proc|sys|dev|etc|bin|sbin|lib\w*|usr|var\/lib\/connector|tmp)(?:\/|$)/;
  if (clean === '/' || `${CONTAINER.workdir}/`.startsWith(`${clean}/`) || reserved.test(clean)) {
    // /tmp is an emptyDir already; anything else here would hide the app or the system.
    return undefined;
  }
  return clean;
}

function labels(context: CodegenContext): Record<string, string> {
  const { names } = context;
  return {
    'app.kubernetes.io/name': names.k8sName,
    'app.kubernetes.io/instance': names.k8sName,
    'app.kubernetes.io/version': names.versionLabel,
    'app.kubernetes.io/component': 'connector',
    'app.kubernetes.io/part-of': 'connector-factory',
    'app.kubernetes.io/managed-by': 'connector-factory',
  };
}

function selector(context: CodegenContext): Record<string, string> {
  return {
    'app.kubernetes.io/name': context.names.k8sName,
    'app.kubernetes.io/instance': context.names.k8sName,
  };
}

function metadata(context: CodegenContext, name: string, annotations: Record<string, string> = {}) {
  return {
    name,
    labels: labels(context),
    annotations: { 'connector-factory.io/connector-id': context.manifest.id, ...annotations },
  };
}

function container(context: CodegenContext, args: readonly string[]): IContainer {
  const { names, requiredEnv, manifest } = context;
  const secretEnv: IEnvVar[] = requiredEnv.map((name) => ({
    name,
    valueFrom: { secretKeyRef: { name: names.secretName, key: name } },
  }));
  const lake = localLakeMount(manifest.destination.lakePath);
  const mounts: IVolumeMount[] = [
    { name: 'manifest', mountPath: `${CONTAINER.workdir}/manifest.json`, subPath: 'manifest.json', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'state', mountPath: CONTAINER.stateDir },
    ...(lake !== undefined ? [{ name: 'lake', mountPath: lake }] : []),
  ];
  return {
    name: 'connector',
    image: names.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', ...connectorNodeFlags(manifest), 'dist/index.js'],
    ...(args.length > 0 ? { args: [...args] } : {}),
    ports: [{ name: 'http', containerPort: CONTAINER.port, protocol: 'TCP' }],
    env: [
      { name: 'PORT', value: String(CONTAINER.port) },
      { name: 'CF_STATE_DIR', value: CONTAINER.stateDir },
      ...secretEnv,
    ],
    resources: {
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { cpu: '1', memory: '2Gi' },
    },
    livenessProbe: {
      httpGet: { path: '/health', port: 'http' },
      initialDelaySeconds: 10,
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/ready', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: CONTAINER.user,
      runAsGroup: CONTAINER.user,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: mounts,
  };
}

function podTemplate(
  context: CodegenContext,
  args: readonly string[],
  restartPolicy: 'Always' | 'Never',
): IPodTemplateSpec {
  const lake = localLakeMount(context.manifest.destination.lakePath);
  const volumes: IVolume[] = [
    {
      name: 'manifest',
      configMap: { name: context.names.configMapName, items: [{ key: 'manifest.json', path: 'manifest.json' }] },
    },
    { name: 'tmp', emptyDir: {} },
    { name: 'state', emptyDir: {} },
    ...(lake !== undefined ? [{ name: 'lake', emptyDir: {} }] : []),
  ];
  return {
    metadata: { labels: labels(context) },
    spec: {
      restartPolicy,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 60,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: CONTAINER.user,
        runAsGroup: CONTAINER.user,
        fsGroup: CONTAINER.user,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [container(context, args)],
      volumes,
    },
  };
}

function deployment(context: CodegenContext): IDeployment {
  const active = context.workload.kind === 'deployment';
  const annotations: Record<string, string> = active
    ? {
        'connector-factory.io/workload': `active: ${context.workload.kind === 'deployment' ? context.workload.reason : ''}`,
      }
    : {
        'connector-factory.io/workload':
          'alternative, scaled to 0: the CronJob runs this connector; scale this to 1 and suspend the CronJob to follow the schedule in-process instead',
      };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(context, context.names.k8sName, annotations),
    spec: {
      replicas: active ? 1 : 0,
      // One process at a time: a CDC slot or a lake table takes one writer.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: selector(context) },
      template: podTemplate(context, [], 'Always'),
    },
  };
}

function cronJob(context: CodegenContext): ICronJob {
  const { workload } = context;
  const annotations: Record<string, string> = {};
  let schedule = ALTERNATIVE_SCHEDULE;
  let suspend = true;
  if (workload.kind === 'cronjob') {
    schedule = workload.schedule;
    suspend = false;
    annotations['connector-factory.io/workload'] = 'active';
    if (workload.note !== undefined) annotations['connector-factory.io/schedule-note'] = workload.note;
  } else {
    annotations['connector-factory.io/workload'] =
      'alternative, suspended: the Deployment runs this connector; unsuspend this (and scale the Deployment to 0) for hourly catch-up runs instead';
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: metadata(context, context.names.k8sName, annotations),
    spec: {
      schedule,
      timeZone: 'Etc/UTC',
      suspend,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: labels(context) },
        spec: {
          backoffLimit: 2,
          ttlSecondsAfterFinished: 86_400,
          template: podTemplate(context, ['--once'], 'Never'),
        },
      },
    },
  };
}

function service(context: CodegenContext): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(context, context.names.k8sName),
    spec: {
      type: 'ClusterIP',
      selector: selector(context),
      ports: [{ name: 'http', port: CONTAINER.port, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

function configMap(context: CodegenContext, manifestJson: string): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(context, context.names.configMapName),
    data: { 'manifest.json': manifestJson },
  };
}

function networkPolicy(context: CodegenContext, profile: SourceProfile): INetworkPolicy {
  const lakeOnS3 = /^s3:\/\//i.test(context.manifest.destination.lakePath);
  const egressPorts = [...profile.egressPorts, ...(lakeOnS3 ? [443] : [])];
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(context, context.names.k8sName),
    spec: {
      podSelector: { matchLabels: selector(context) },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [
        {
          from: [
            { podSelector: { matchLabels: { 'app.kubernetes.io/component': 'monitoring' } } },
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
          ],
          ports: [{ protocol: 'TCP', port: CONTAINER.port }],
        },
      ],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        ...(egressPorts.length > 0 ? [{ ports: egressPorts.map((port) => ({ protocol: 'TCP' as const, port })) }] : []),
      ],
    },
  };
}

/** The package's Kubernetes files: all four of the spec's, plus the NetworkPolicy. */
export function kubernetesFiles(
  context: CodegenContext,
  profile: SourceProfile,
  manifestJson: string,
): KubernetesFile[] {
  const { id } = context.manifest;
  const where = (what: string) => `${what} of ${id}, generated by Connector Factory (see README.md).`;
  return [
    {
      path: 'k8s/configmap.yaml',
      header: [where('The manifest'), 'Mounted read-only at /app/manifest.json.'],
      objects: [configMap(context, manifestJson)],
    },
    {
      path: 'k8s/cronjob.yaml',
      header: [where('The scheduled runs'), 'Each run is `--once`; the schedule is UTC.'],
      objects: [cronJob(context)],
    },
    {
      path: 'k8s/deployment.yaml',
      header: [where('The long-running process'), 'It follows the manifest schedule itself; one replica at most.'],
      objects: [deployment(context)],
    },
    {
      path: 'k8s/networkpolicy.yaml',
      header: [
        where('The network policy'),
        'Egress: DNS, the source and the lake on their default ports (edit if yours differ); ingress: the health port from monitoring.',
      ],
      objects: [networkPolicy(context, profile)],
    },
    {
      path: 'k8s/service.yaml',
      header: [where('Health and metrics'), '/health, /ready and /metrics on port http.'],
      objects: [service(context)],
    },
  ];
}

import type { ConnectorManifest, Field } from '@connector-factory/ir';
import { codeBlock, document, escapeText, heading, inlineCode, list, paragraph, table } from '../syntax/markdown.js';
import type { CodegenContext, SourceProfile, TemplateKind } from '../template.js';
import { PII_KEY_ENV } from './environment.js';
import { localLakeMount } from './kubernetes.js';

function scheduleText(manifest: ConnectorManifest): string {
  const { schedule } = manifest;
  switch (schedule.type) {
    case 'cron':
      return `on the cron schedule ${inlineCode(schedule.expression)} (UTC)`;
    case 'interval':
      return `every ${schedule.intervalSeconds} seconds`;
    case 'continuous':
      return 'continuously (restarting with backoff after a failure)';
    case 'event':
      return `once per event from ${inlineCode(schedule.eventSource)}`;
  }
}

/** Where a manifest mentions a variable: `source.connectionString`, `source.auth.config.apiKeyEnvVar`, … */
function referencePaths(manifest: ConnectorManifest, name: string): string[] {
  const paths: string[] = [];
  const visit = (value: unknown, path: string, key: string): void => {
    if (typeof value === 'string') {
      if (value.includes(`\${${name}}`) || (key.endsWith('EnvVar') && value === name)) paths.push(path);
    } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, `${path}[${i}]`, ''));
    else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, path === '' ? k : `${path}.${k}`, k);
    }
  };
  visit(manifest, '', '');
  return paths;
}

function envRows(context: CodegenContext): string[][] {
  const { manifest } = context;
  return context.requiredEnv.map((name) => {
    let what: string;
    if (name === PII_KEY_ENV.hash)
      what = 'HMAC key for PII hashing (at least 16 characters; keep it the same across runs)';
    else if (name === PII_KEY_ENV.encrypt) what = 'AES-256 key for PII encryption (32 bytes, base64 or hex)';
    else what = `referenced by ${referencePaths(manifest, name).map(inlineCode).join(', ')}`;
    return [inlineCode(name), what];
  });
}

function fieldRows(fields: readonly Field[], manifest: ConnectorManifest): string[][] {
  const handling = manifest.governance.piiHandling;
  return fields.map((field) => [
    inlineCode(field.name),
    field.type,
    field.nullable ? 'yes' : 'no',
    field.pii === true ? handling : '',
  ]);
}

function destinationText(manifest: ConnectorManifest): string {
  const { destination } = manifest;
  const parts = [`${destination.format}${destination.compression ? ` (${destination.compression})` : ''}`];
  if (destination.writeMode === 'merge') {
    const keys = destination.mergeKeys ?? [];
    parts.push(keys.length > 0 ? `merged on ${keys.map(inlineCode).join(', ')}` : 'merged on the primary key');
  } else parts.push(destination.writeMode === 'append' ? 'appended' : 'overwritten each run');
  if (destination.partitionBy.length > 0)
    parts.push(`partitioned by ${destination.partitionBy.map(inlineCode).join(', ')}`);
  return parts.join(', ');
}

function kubernetesText(context: CodegenContext): string[] {
  const { names, workload, manifest } = context;
  const blocks: string[] = [];
  switch (workload.kind) {
    case 'cronjob':
      blocks.push(
        paragraph(
          `The CronJob in ${inlineCode('k8s/cronjob.yaml')} runs ${inlineCode('--once')} on ${inlineCode(workload.schedule)} (UTC); the Deployment in ${inlineCode('k8s/deployment.yaml')} is the alternative and has 0 replicas: scale it to 1 and suspend the CronJob to follow the manifest's schedule in-process instead.`,
          workload.note !== undefined ? `Note: ${escapeText(workload.note)}.` : '',
        ),
      );
      break;
    case 'deployment':
      blocks.push(
        paragraph(
          `The Deployment in ${inlineCode('k8s/deployment.yaml')} runs one replica that follows the manifest's schedule itself (${escapeText(workload.reason)}). The CronJob in ${inlineCode('k8s/cronjob.yaml')} is the alternative, suspended: unsuspend it (and scale the Deployment to 0) for hourly catch-up runs instead.`,
        ),
      );
      break;
  }
  blocks.push(
    paragraph(
      `Pods run as user 10001 with a read-only root filesystem, no privilege escalation, no capabilities and the RuntimeDefault seccomp profile; ${inlineCode('/tmp')} and the state folder ${inlineCode('/var/lib/connector')} are emptyDirs (checkpoints also live in the lake's table log, so a new pod resumes where the last commit left off).`,
      `Probes use ${inlineCode('/health')} and ${inlineCode('/ready')} on port 8080, which also serves ${inlineCode('/metrics')}.`,
      `Credentials come only from the Secret ${inlineCode(names.secretName)} through ${inlineCode('secretKeyRef')}.`,
      `The NetworkPolicy allows DNS, the source and the lake on their default ports, and the health port from monitoring; edit ${inlineCode('k8s/networkpolicy.yaml')} if yours differ.`,
    ),
  );
  const mount = localLakeMount(manifest.destination.lakePath);
  if (mount !== undefined) {
    blocks.push(
      paragraph(
        `The lake is a local folder: in the pod it is an emptyDir at ${inlineCode(mount)}, which is lost with the pod. Use an ${inlineCode('s3://')} lake or replace the volume with a PersistentVolumeClaim for a lasting table.`,
      ),
    );
  }
  return blocks;
}

/** `README.md`: what the connector does, its variables, and how to run it once, on a schedule, in Docker and on Kubernetes. */
export function readmeText(
  context: CodegenContext,
  profile: SourceProfile,
  kind: TemplateKind,
  files: readonly string[],
): string {
  const { manifest, names, entities, requiredEnv } = context;
  const setEnv = requiredEnv.map((name) => `export ${name}=…`);
  const blocks: string[] = [
    heading(1, escapeText(manifest.name)),
    paragraph(
      `${inlineCode(manifest.id)} ${manifest.version}, generated by Connector Factory from ${inlineCode('manifest.json')} (the Connector IR) with the ${kind} template.`,
      'Change the manifest and generate the package again rather than editing the code: the runtime does the work, and the code here only wires it up.',
    ),
    heading(2, 'What it does'),
    paragraph(
      `It reads ${entities.map(({ entity }) => inlineCode(entity.name)).join(', ')} from a ${escapeText(profile.label)} source, ${scheduleText(manifest)}, and writes ${inlineCode(manifest.destination.lakePath)} as ${destinationText(manifest)}.`,
      manifest.schema.entities.length > 1 ? 'Each entity gets its own folder under that path.' : '',
    ),
    ...profile.readme,
    paragraph(
      'Each sync extracts, transforms, writes, commits to the lake, then checkpoints: a batch commits atomically with its batch id, so a run that crashed and replays writes nothing twice.',
      `Every row gets ${inlineCode('_extracted_at')}, ${inlineCode('_connector_id')} and ${inlineCode('_connector_version')}${manifest.schema.updateStrategy === 'cdc' ? ` (and ${inlineCode('_op')}, the change kind)` : ''}; PII fields are handled with ${inlineCode(manifest.governance.piiHandling)}.`,
    ),
    heading(2, 'Lake tables'),
    ...entities.flatMap(({ entity, fields }) => [
      heading(3, inlineCode(entity.name)),
      table(['field', 'type', 'nullable', 'PII'], fieldRows(fields, manifest)),
    ]),
    heading(2, 'Environment variables'),
    requiredEnv.length > 0
      ? table(['variable', 'what'], envRows(context))
      : paragraph('The connector needs no credentials from the environment.'),
    paragraph(
      'Values are read at start and never printed (logs mask them); a missing one stops the connector with one line naming it.',
      `Optional: ${inlineCode('PORT')} (health and metrics, default 8080), ${inlineCode('CF_STATE_DIR')} (checkpoints, default ${inlineCode('./.connector-state')}), ${inlineCode('CF_CHUNK_ROWS')} and ${inlineCode('CF_BATCH_ROWS')}.`,
    ),
    heading(2, 'Run it'),
    codeBlock('sh', [
      'npm install',
      ...setEnv,
      'npm start -- --once   # one sync, then exit: 0 on success, one error line and a non-zero status on failure',
      'npm start             # follow the schedule in this process',
    ]),
    paragraph(
      `Flags: ${['--once', '--entity <name>', '--health-port <port>', '--state-dir <dir>', '--log-level <level>', '--help'].map(inlineCode).join(', ')}. Exit status: 0 ok, 1 configuration error, 2 usage error, 3 runtime failure, 6 the source refused or is unreachable (credentials, grants, down). Logs are JSON lines on stderr.`,
    ),
    heading(2, 'Tests'),
    paragraph(
      `${inlineCode('npm test')} compiles the tests strictly and runs them with Node's test runner. The client and extractor tests run offline; the integration test syncs each entity once into a temporary lake and compares its row count with the source, and is skipped (saying which variables it needs) unless ${requiredEnv.length > 0 ? requiredEnv.map(inlineCode).join(', ') : 'the source is reachable'} ${requiredEnv.length > 1 ? 'are' : 'is'} set.`,
    ),
    heading(2, 'Docker'),
    codeBlock('sh', [
      'npm install   # writes package-lock.json, which the image build installs from',
      `docker build -t ${names.image} .`,
      `docker run --rm ${requiredEnv.map((name) => `-e ${name} `).join('')}${names.image} node dist/index.js --once`,
    ]),
    paragraph(
      `The image is multi-stage on ${inlineCode('node:20')} (pinned), runs as user 10001 and checks ${inlineCode('/health')}; without a command it follows the schedule.`,
    ),
    heading(2, 'Kubernetes'),
    codeBlock('sh', [
      `kubectl create secret generic ${names.secretName} ${requiredEnv.map((name) => `--from-literal=${name}=…`).join(' ')}`.trimEnd(),
      'kubectl apply -f k8s/',
    ]),
    paragraph(
      `Push the image to a registry the cluster pulls from and set ${inlineCode('image:')} in ${inlineCode('k8s/cronjob.yaml')} and ${inlineCode('k8s/deployment.yaml')} (it is ${inlineCode(names.image)}, a local name, as generated).`,
    ),
    ...kubernetesText(context),
    heading(2, 'Files'),
    list(files.map(inlineCode)),
  ];
  return document(blocks.filter((block) => block !== ''));
}

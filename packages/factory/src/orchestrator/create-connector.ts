import { join, resolve } from 'node:path';
import type { LakeFormat } from '@connector-factory/ir';
import { digestOf } from '../audit/canonical-json.js';
import { generate } from '../agents/codegen/generate.js';
import { writePackage } from '../agents/codegen/write-package.js';
import type { ProgressListener, StepReport } from '../agents/deploy/build-package.js';
import { deployConnector, type DeployContext, type DeploymentReceipt } from '../agents/deploy/deploy.js';
import { packageDigest } from '../agents/deploy/package-digest.js';
import { discover } from '../agents/discovery/discover.js';
import type { SourceManifest } from '../agents/discovery/source-manifest.js';
import { extractSchema } from '../agents/schema/extract-schema.js';
import { cdcVerdict } from '../agents/schema/infer-strategy.js';
import type { ChooseEntity } from '../agents/schema/match-entities.js';
import { FactoryError } from '../errors.js';
import { composeManifest } from '../manifest/compose-manifest.js';
import { keepConnectionSecret, literalDatabaseUrl, literalDatabaseUrlIn } from '../secrets/connection-secret.js';
import { referencedVariables, withStoredSecrets } from '../secrets/secret-store.js';
import type { ProviderRegistry } from '../registry/provider-registry.js';
import { lakeTablePath } from '../runtime.js';
import type { Environment } from '../records/index.js';

export interface CreateOptions {
  readonly description: string;
  /**
   * A connection URL or an env-var reference. A literal database URL is kept in the secret store
   * (encrypted) under a `POSTGRES_<DATABASE>_CONNECTION_STRING`-style name the manifest references.
   */
  readonly connection?: string;
  readonly lake?: string;
  readonly format?: LakeFormat;
  readonly environment: Environment;
  /** Packages go to `<outDir>/<package name>`. Default ./connectors. */
  readonly outDir?: string;
  /** Replace a package folder that exists. */
  readonly force?: boolean;
  readonly registry: ProviderRegistry;
  readonly env?: NodeJS.ProcessEnv;
  readonly workingDir?: string;
  readonly healthTimeoutMs?: number;
  readonly approvalTimeoutMs?: number;
  /** The certification window (default 24 h). */
  readonly certifyAfterMs?: number;
  /** Asked before the deploy (an interactive `create`); false stops after the package is written. */
  readonly confirmDeploy?: (question: string) => Promise<boolean>;
  /**
   * Asked (an interactive `create`) when a table name matches no live table or several, or when the
   * description names none and the database has several; without it those stop with the list of tables.
   */
  readonly chooseTable?: ChooseEntity;
  readonly progress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** What `create` made and where: the `--json` summary. */
export interface CreateSummary {
  readonly connectorId: string;
  readonly version: string;
  readonly manifestPath: string;
  readonly packagePath: string;
  readonly deploymentId: string;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  readonly lakeTablePath: string;
  readonly environment: Environment;
  readonly deployment: DeploymentReceipt;
  readonly steps: readonly StepReport[];
  readonly warnings: readonly string[];
}

/**
 * The whole orchestra for one sentence: Discovery → Schema (introspecting the live source) → the
 * manifest → Codegen (a package on disk) → Deploy (build, sandboxed tests, the CARS gate, start,
 * healthy). Each agent's step is timed, reported to `progress` and audited with its risk level. A CARS
 * gate that needs an approval stops the run with FactoryError 'approval_required' naming the command
 * that continues; what was made so far stays on disk.
 */
export async function createConnector(options: CreateOptions, context: DeployContext): Promise<CreateSummary> {
  const env = options.env ?? process.env;
  const steps: StepReport[] = [];
  const warnings: string[] = [];
  const step = async <T>(
    name: string,
    receipt: { action: string; agent: string; resource: () => string },
    work: () => Promise<T>,
    facts: (value: T) => { detail: string; inputs: Record<string, string>; outputs: Record<string, string> },
  ): Promise<T> => {
    options.progress?.({ step: name, state: 'start' });
    const started = Date.now();
    const record = (
      result: 'success' | 'failure',
      facts: { inputs: Record<string, string>; outputs: Record<string, string>; details: Record<string, unknown> },
    ) =>
      context.audit.record({
        action: receipt.action,
        agent: receipt.agent,
        actor: context.actor.name,
        resource: receipt.resource(),
        riskLevel: context.cars.riskOf(receipt.action, options.environment),
        result,
        ...facts,
      });
    try {
      const value = await work();
      const { detail, inputs, outputs } = facts(value);
      const report: StepReport = { step: name, ok: true, durationMs: Date.now() - started, detail };
      steps.push(report);
      await record('success', { inputs, outputs, details: { detail, ms: report.durationMs } });
      options.progress?.({ step: name, state: 'done', report });
      return value;
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      const report: StepReport = { step: name, ok: false, durationMs: Date.now() - started, detail: message };
      steps.push(report);
      options.progress?.({ step: name, state: 'failed', report });
      await record('failure', { inputs: {}, outputs: {}, details: { error: message } });
      throw error;
    }
  };

  // A literal URL (given as --connection, or written in the sentence) goes into the secret store first:
  // discovery, the manifest, the receipts and the deploy see only `${NAME}`.
  let connection = options.connection;
  let description = options.description;
  const inText = connection === undefined ? literalDatabaseUrlIn(description) : undefined;
  const literal = connection !== undefined ? literalDatabaseUrl(connection) : inText;
  if (literal !== undefined) {
    options.progress?.({ step: 'secret', state: 'start' });
    const started = Date.now();
    const kept = await keepConnectionSecret(literal.url, literal.prefix, { home: context.home, env });
    if (inText !== undefined) {
      description = `${description.slice(0, inText.start)}${kept.reference}${description.slice(inText.start + inText.raw.length)}`;
    } else connection = kept.reference;
    const report: StepReport = {
      step: 'secret',
      ok: true,
      durationMs: Date.now() - started,
      detail: `the connection string is ${kept.reused ? 'already' : 'now'} in the secret store as ${kept.name}; the manifest refers to ${kept.reference}`,
    };
    steps.push(report);
    options.progress?.({ step: 'secret', state: 'done', report });
  }
  // The variables the connection references: from the environment, else from the secret store.
  const sourceEnv = await withStoredSecrets(env, referencedVariables(connection ?? ''), { home: context.home });

  const discovery: SourceManifest = await step(
    'discover',
    { action: 'discover', agent: 'discovery', resource: () => 'description' },
    () =>
      discover(
        {
          description,
          env: sourceEnv,
          ...(connection !== undefined ? { connection } : {}),
        },
        options.registry,
      ),
    (found) => ({
      detail: `${found.displayName}: ${found.suggestedEntities.join(', ') || 'no entity named'} (${found.strategy.updateStrategy})`,
      inputs: { description: digestOf(description) },
      outputs: { sourceManifest: digestOf(found) },
    }),
  );
  warnings.push(...discovery.warnings);
  const source = discovery;
  if (source.type !== 'jdbc' || source.connectionString === undefined) {
    throw new FactoryError(
      'invalid_input',
      `create introspects live databases; ${source.displayName} (${source.type}) has no schema introspector yet — describe a PostgreSQL or MySQL source, or pass --connection`,
    );
  }
  if (source.provider !== 'postgres' && source.provider !== 'mysql') {
    throw new FactoryError('invalid_input', `create has no schema introspector for ${source.displayName} yet`);
  }
  const provider = source.provider;
  const connectionString = source.connectionString;
  const manifest = await step(
    'schema',
    { action: 'extract_schema', agent: 'schema', resource: () => `${provider}:${source.suggestedEntities.join(',')}` },
    async () => {
      const definition = await extractSchema(
        { type: 'jdbc', provider, connectionString },
        {
          env: await withStoredSecrets(sourceEnv, referencedVariables(connectionString), { home: context.home }),
          ...(source.suggestedEntities.length > 0 ? { entities: source.suggestedEntities } : {}),
          // Names as the user typed them, matched against the live catalog; none named: the only table, else
          // a question, else the list; every table only when the words say so.
          match: 'typed',
          unnamed: source.allEntities === true ? 'all' : 'one',
          ...(options.chooseTable ? { choose: options.chooseTable } : {}),
          ...(source.strategy.namedCursor !== undefined ? { incrementalKey: source.strategy.namedCursor } : {}),
          ...(source.strategy.updateStrategy === 'cdc' ? { wantCdc: true } : {}),
        },
      );
      return {
        definition,
        manifest: composeManifest(source, definition, {
          env,
          ...(options.lake !== undefined ? { lakePath: options.lake } : {}),
          ...(options.format !== undefined ? { format: options.format } : {}),
        }),
      };
    },
    ({ definition, manifest: composed }) => ({
      detail: `${definition.entities.map((e) => `${e.name} (${e.fields.length} fields)`).join(', ')}; ${composed.schema.updateStrategy} → ${composed.destination.format} ${composed.destination.writeMode}${cdcVerdict(definition, source.strategy.updateStrategy === 'cdc')}`,
      inputs: { source: digestOf({ provider, connectionString }) },
      outputs: { schema: digestOf(definition), manifest: digestOf(composed) },
    }),
  ).then((result) => result.manifest);

  const { path: packagePath } = await step(
    'generate',
    { action: 'generate', agent: 'codegen', resource: () => manifest.id },
    async () => {
      const pkg = await generate(manifest);
      const path = await writePackage(pkg, resolve(options.outDir ?? 'connectors', pkg.name), {
        force: options.force === true,
      });
      return { path, files: pkg.files.size, digest: await packageDigest(path) };
    },
    ({ path, files, digest }) => ({
      detail: `${files} files in ${path}`,
      inputs: { manifest: digestOf(manifest) },
      outputs: { package: digest },
    }),
  );

  if (
    options.confirmDeploy &&
    !(await options.confirmDeploy(`build, test and deploy ${packagePath} to ${options.environment}?`))
  ) {
    throw new FactoryError(
      'usage',
      `not deployed: the package is in ${packagePath}; deploy it with \`connector-factory deploy ${packagePath} --env ${options.environment}\``,
    );
  }
  const deployment = await deployConnector(packagePath, context, {
    environment: options.environment,
    env,
    ...(options.workingDir !== undefined ? { workingDir: options.workingDir } : {}),
    ...(options.healthTimeoutMs !== undefined ? { healthTimeoutMs: options.healthTimeoutMs } : {}),
    ...(options.approvalTimeoutMs !== undefined ? { approvalTimeoutMs: options.approvalTimeoutMs } : {}),
    ...(options.certifyAfterMs !== undefined ? { certifyAfterMs: options.certifyAfterMs } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  steps.push(...deployment.steps);
  const entity = manifest.schema.entities[0]!.name;
  const table = await lakeTablePath(manifest, entity, env);
  return {
    connectorId: manifest.id,
    version: manifest.version,
    manifestPath: join(packagePath, 'manifest.json'),
    packagePath,
    deploymentId: deployment.deploymentId,
    healthUrl: deployment.healthUrl,
    metricsUrl: deployment.metricsUrl,
    lakeTablePath: /^[a-z][a-z0-9+.-]*:\/\//i.test(table) ? table : resolve(options.workingDir ?? process.cwd(), table),
    environment: options.environment,
    deployment,
    steps,
    warnings,
  };
}

import { validate as lintDockerfile } from 'dockerfile-utils';
import { formatProblem, validateManifest, type ConnectorManifest } from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import { configModule } from './common/config-module.js';
import { dockerfileText, dockerignoreText } from './common/dockerfile.js';
import { requiredEnv } from './common/environment.js';
import { indexModule } from './common/index-module.js';
import { kubernetesFiles } from './common/kubernetes.js';
import { validateKubernetesObject } from './common/kubernetes-validate.js';
import { loaderModule } from './common/loader-module.js';
import { entityNames, packageNames } from './common/names.js';
import { gitignoreText, packageJson, tsconfig, tsconfigTest, vendorPath } from './common/package-json.js';
import { readmeText } from './common/readme.js';
import { workloadFor } from './common/schedule.js';
import { transformerModule } from './common/transformer-module.js';
import { formatText, printModule } from './syntax/print.js';
import { yamlDocuments } from './syntax/yaml.js';
import { templateKindOf, type CodegenContext, type TemplateKind } from './template.js';
import { TEMPLATES } from './templates/index.js';
import { vendorRuntime, type RuntimeTarballs, type VendorOptions } from './vendor-runtime.js';

export { writePackage, type WritePackageOptions } from './write-package.js';

/** A generated connector: its files by relative path (sorted), text or bytes (the vendored tarballs). */
export interface ConnectorPackage {
  /** The package (and folder) name: `connector-postgres-orders-v1`. */
  readonly name: string;
  readonly template: TemplateKind;
  readonly files: ReadonlyMap<string, string | Uint8Array>;
}

export interface GenerateOptions {
  /** The ir and runtime tarballs to vendor (default: `vendorRuntime(vendor)`, once the manifest is known to fit). */
  readonly runtimeTarballs?: RuntimeTarballs;
  /** Where `vendorRuntime` finds the tarballs when none are given. */
  readonly vendor?: VendorOptions;
}

/** The manifest as the package carries it: the IR without the editor's `$schema` hint (a path that would dangle). */
function carried(manifest: ConnectorManifest): ConnectorManifest {
  const copy = { ...manifest };
  delete copy.$schema;
  return copy;
}

function checkDockerfile(text: string): void {
  const problems = lintDockerfile(text);
  if (problems.length > 0) {
    throw new FactoryError(
      'internal',
      'the generated Dockerfile does not pass its linter',
      problems.map((p) => `line ${p.range.start.line + 1}: ${p.message}`),
    );
  }
}

/**
 * Generates the connector package for a manifest: the template of its source kind writes the source
 * modules and their tests; the pipeline writes everything else (config, entry point, record types,
 * lake loader, manifest.json, package.json, Dockerfile, Kubernetes, README) the same way for every
 * kind. TypeScript is built as syntax and printed; every file is formatted; the same manifest and
 * tarballs always give byte-identical files. Throws FactoryError 'invalid_input' for an invalid
 * manifest or a template that is not available yet.
 */
export async function generate(input: ConnectorManifest, options: GenerateOptions = {}): Promise<ConnectorPackage> {
  const validation = validateManifest(input);
  if (!validation.ok) {
    const errors = validation.problems.filter((p) => p.severity === 'error');
    throw new FactoryError(
      'invalid_input',
      `the manifest is not valid (${errors.length} problem${errors.length === 1 ? '' : 's'})`,
      errors.map(formatProblem),
    );
  }
  const manifest = carried(validation.manifest);
  const kind = templateKindOf(manifest);
  const template = TEMPLATES[kind];
  const profile = template.profile(manifest);
  const context: CodegenContext = {
    manifest,
    names: packageNames(manifest),
    entities: entityNames(manifest),
    requiredEnv: requiredEnv(manifest),
    workload: workloadFor(manifest.schedule),
  };
  const output = template.render(context);
  const tarballs = options.runtimeTarballs ?? (await vendorRuntime(options.vendor));

  const files = new Map<string, string | Uint8Array>();
  const modules = new Map([
    ['src/config.ts', configModule(context)],
    ['src/index.ts', indexModule()],
    ['src/transformer.ts', transformerModule(context)],
    ['src/loader.ts', loaderModule(context)],
    ...output.modules,
  ]);
  for (const [path, statements] of modules) files.set(path, await printModule(statements));

  const manifestJson = await formatText(JSON.stringify(manifest, null, 2), 'json');
  files.set('manifest.json', manifestJson);
  files.set(
    'package.json',
    await formatText(JSON.stringify(packageJson(context, tarballs, output), null, 2), 'json-stringify'),
  );
  files.set('tsconfig.json', await formatText(JSON.stringify(tsconfig(), null, 2), 'json'));
  files.set('tsconfig.test.json', await formatText(JSON.stringify(tsconfigTest(), null, 2), 'json'));
  files.set('.gitignore', gitignoreText());
  files.set('.dockerignore', dockerignoreText());
  const docker = dockerfileText(context);
  checkDockerfile(docker);
  files.set('Dockerfile', docker);
  for (const file of kubernetesFiles(context, profile, manifestJson)) {
    for (const object of file.objects) validateKubernetesObject(object);
    files.set(file.path, await formatText(yamlDocuments(file.header, file.objects), 'yaml'));
  }
  for (const tarball of [tarballs.ir, tarballs.runtime]) files.set(vendorPath(tarball.fileName), tarball.bytes);
  const listed = [...files.keys(), 'README.md'].sort();
  files.set('README.md', await formatText(readmeText(context, profile, kind, listed), 'markdown'));

  const sorted = new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { name: context.names.packageName, template: kind, files: sorted };
}

import type ts from 'typescript';
import { TEMPLATE_KINDS, type ConnectorManifest, type TemplateKind } from '@connector-factory/ir';
import { FactoryError } from '../../errors.js';
import type { EntityNames, PackageNames } from './common/names.js';
import type { Workload } from './common/schedule.js';

// The kinds are the IR's (TEMPLATE_KINDS, which providers name too): one list, defined once.
export { TEMPLATE_KINDS, type TemplateKind };

/** What the generator knows about a manifest before any template runs; shared by every file. */
export interface CodegenContext {
  readonly manifest: ConnectorManifest;
  readonly names: PackageNames;
  readonly entities: readonly EntityNames[];
  /** Variables the connector needs at start (referenced credentials, PII keys), sorted. */
  readonly requiredEnv: readonly string[];
  readonly workload: Workload;
}

/** A template's account of its source, for the README and the NetworkPolicy. */
export interface SourceProfile {
  /** A few words: "PostgreSQL (jdbc)". */
  readonly label: string;
  /** TCP ports the connector reaches the source on (their defaults; the README says how to change them). */
  readonly egressPorts: readonly number[];
  /** README paragraphs (Markdown, already escaped) on how the source is read. */
  readonly readme: readonly string[];
}

/** The files a template owns: the source-specific modules and their tests. */
export interface TemplateOutput {
  /** `src/client.ts`, `src/extractor.ts`, `tests/*.test.ts`: top-level statements, printed by the pipeline. */
  readonly modules: ReadonlyMap<string, readonly ts.Statement[]>;
  /** devDependencies the tests need beyond TypeScript and Node's types. */
  readonly devDependencies: Readonly<Record<string, string>>;
}

/**
 * One template per source kind, each in its own folder. The pipeline (package.json, config, index,
 * transformer, loader, Dockerfile, Kubernetes, README) is the same for all; a template adds how its
 * source is opened and read, and how that is tested.
 */
export interface Template {
  readonly kind: TemplateKind;
  /** Checks that the template can serve this manifest (FactoryError 'invalid_input' when not). */
  profile(manifest: ConnectorManifest): SourceProfile;
  render(context: CodegenContext): TemplateOutput;
}

/** The template for a manifest's source: by `source.type` (custom sources: webhooks only). */
export function templateKindOf(manifest: ConnectorManifest): TemplateKind {
  const { source } = manifest;
  switch (source.type) {
    case 'jdbc':
      return 'jdbc';
    case 'rest_api':
      return 'rest-api';
    case 'graphql':
      return 'graphql';
    case 'file':
      return 'file';
    case 'stream':
      return 'kafka';
    case 'custom':
      if (source.provider === 'webhook' || manifest.schedule.type === 'event') return 'webhook';
      throw new FactoryError(
        'invalid_input',
        `no template generates a custom source (${source.provider}) other than a webhook; templates: ${TEMPLATE_KINDS.join(', ')}`,
      );
  }
}

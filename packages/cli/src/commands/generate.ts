import type { Command } from 'commander';
import { digestOf, generate, loadManifestFile, packageDigest, writePackage } from '@connector-factory/factory';
import { audited, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';
import { formatLocatedProblem } from './validate.js';

interface GenerateOptions extends FactoryOptions {
  readonly out: string;
  readonly force?: boolean;
  readonly vendor?: string;
  readonly json?: boolean;
}

export function registerGenerate(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(program.command('generate'))
    .description('generate the connector package for a manifest: code, tests, Dockerfile, Kubernetes')
    .argument('<manifest>', 'manifest file (JSON or YAML)')
    .requiredOption('--out <dir>', 'folder to write the package to (created; must be empty unless --force)')
    .option('--force', 'replace the folder if it is not empty')
    .option(
      '--vendor <dir>',
      'prebuilt connector-factory-{ir,runtime}-*.tgz to vendor (default: pack this installation)',
    )
    .option('--json', 'print {package, template, out, files} as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 written, 1 invalid manifest or a source kind without a template yet, 3 internal error.\n' +
        '\nExample:\n  connector-factory generate examples/postgres-orders-cdc.json --out ./connector-postgres-orders-v1',
    )
    .action(async (file: string, options: GenerateOptions) => {
      const result = await loadManifestFile(file);
      for (const problem of result.problems) io.err(formatLocatedProblem(problem));
      if (!result.ok) {
        setExit(EXIT.invalidInput);
        return;
      }
      const manifest = result.manifest;
      await audited(options, { action: 'generate', agent: 'codegen', what: 'generating a connector' }, async () => {
        const pkg = await generate(manifest, options.vendor !== undefined ? { vendor: { from: options.vendor } } : {});
        const out = await writePackage(pkg, options.out, { force: options.force === true });
        const files = [...pkg.files.keys()];
        if (options.json) {
          printJson(io, { package: pkg.name, template: pkg.template, out, files });
        } else {
          io.out(`wrote ${pkg.name} (${pkg.template} template, ${files.length} files) to ${out}`);
          for (const path of files) io.out(`  ${path}`);
          io.out('');
          io.out('next:');
          io.out(`  cd ${out}`);
          io.out('  npm install && npm test');
          io.out('  npm start -- --once    # one sync; set the variables README.md lists first');
        }
        setExit(EXIT.ok);
        return {
          resource: manifest.id,
          inputs: { manifest: digestOf(manifest) },
          outputs: { package: await packageDigest(out) },
          details: { template: pkg.template, files: files.length },
        };
      });
    });
}

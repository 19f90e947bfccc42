import type { Command } from 'commander';
import { formatPath } from '@connector-factory/ir';
import { loadManifestFile, type LocatedProblem, type ManifestFileResult } from '@connector-factory/factory';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';

/** `file:line:col: error: path: message (expected …, found …); did you mean …?` */
export function formatLocatedProblem(problem: LocatedProblem): string {
  const where = problem.line !== undefined ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  const details: string[] = [];
  if (problem.expected !== undefined) details.push(`expected ${problem.expected}`);
  if (problem.found !== undefined) details.push(`found ${problem.found}`);
  const location = problem.path.length > 0 ? `${formatPath(problem.path)}: ` : '';
  let line = `${where}: ${problem.severity}: ${location}${problem.message}`;
  if (details.length > 0) line += ` (${details.join(', ')})`;
  if (problem.suggestion !== undefined) line += `; did you mean "${problem.suggestion}"?`;
  return line;
}

interface ValidateOptions {
  readonly json?: boolean;
  readonly strict?: boolean;
}

export function registerValidate(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('validate')
    .description('check connector manifests (JSON or YAML) against the Connector IR')
    .argument('<manifest...>', 'manifest files')
    .option('--json', 'print the result as JSON')
    .option('--strict', 'treat warnings as errors')
    .addHelpText(
      'after',
      '\nExit status: 0 valid, 1 invalid (every problem is listed with file:line:column and its JSON path).\n' +
        '\nExample:\n  connector-factory validate examples/postgres-orders-cdc.json',
    )
    .action(async (files: string[], options: ValidateOptions) => {
      const results: ManifestFileResult[] = [];
      for (const file of files) results.push(await loadManifestFile(file));
      const failed = (r: ManifestFileResult) => !r.ok || (options.strict === true && r.problems.length > 0);
      if (options.json) {
        printJson(
          io,
          results.map((r) => ({
            file: r.file,
            valid: !failed(r),
            ...(r.ok ? { id: r.manifest.id, version: r.manifest.version } : {}),
            problems: r.problems.map((p) => ({ ...p, pathText: formatPath(p.path) })),
          })),
        );
      } else {
        for (const result of results) {
          for (const problem of result.problems) io.err(formatLocatedProblem(problem));
          if (!failed(result) && result.ok)
            io.out(`ok: ${result.file} (${result.manifest.id} ${result.manifest.version})`);
        }
      }
      setExit(results.some(failed) ? EXIT.invalidInput : EXIT.ok);
    });
}

import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { validateManifest, type ConnectorManifest, type Problem } from '@connector-factory/ir';
import { FactoryError } from '../errors.js';
import { parseStructuredText, type TextPosition } from '../source-text.js';

/** A problem with the place in the file it points at. */
export interface LocatedProblem extends Problem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

export type ManifestFileResult =
  | {
      readonly ok: true;
      readonly file: string;
      readonly manifest: ConnectorManifest;
      readonly problems: readonly LocatedProblem[];
    }
  | { readonly ok: false; readonly file: string; readonly problems: readonly LocatedProblem[] };

function locate(file: string, problem: Problem, position: TextPosition | undefined): LocatedProblem {
  return position ? { ...problem, file, line: position.line, column: position.column } : { ...problem, file };
}

/**
 * Reads and validates a manifest file (.json, .yaml or .yml). Syntax errors and every validation
 * problem come back as data with line and column; only an unreadable file throws (`not_found`).
 */
export async function loadManifestFile(file: string): Promise<ManifestFileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new FactoryError('not_found', `${file}: cannot read manifest: ${reason}`, [], { cause: error });
  }
  return validateManifestText(text, file);
}

/** Validates manifest text; the format follows the file extension (JSON unless .yaml/.yml). */
export function validateManifestText(text: string, file: string): ManifestFileResult {
  const format = ['.yaml', '.yml'].includes(extname(file).toLowerCase()) ? 'yaml' : 'json';
  const parsed = parseStructuredText(text, format);
  if (!parsed.ok) {
    const problem: Problem = {
      code: 'syntax_error',
      severity: 'error',
      path: [],
      message: `invalid ${format.toUpperCase()}: ${parsed.message}`,
    };
    return { ok: false, file, problems: [locate(file, problem, parsed.position)] };
  }
  const result = validateManifest(parsed.value);
  // In file order, as an editor would list them.
  const problems = result.problems
    .map((p) => locate(file, p, parsed.positionOf(p.path)))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  return result.ok ? { ok: true, file, manifest: result.manifest, problems } : { ok: false, file, problems };
}

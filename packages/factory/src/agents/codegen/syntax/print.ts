import { format, type Options } from 'prettier';
import ts from 'typescript';

/** How generated files are formatted: the house style, so a generated package reads like the repository. */
export const PRETTIER_OPTIONS: Options = {
  singleQuote: true,
  printWidth: 120,
  trailingComma: 'all',
  proseWrap: 'preserve',
};

const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed, removeComments: false });
const host = ts.createSourceFile('module.ts', '', ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);

/**
 * Prints a module's top-level statements with the TypeScript printer, one blank line between
 * declarations (imports stay together), then formats it with prettier.
 */
export async function printModule(statements: readonly ts.Statement[]): Promise<string> {
  const parts: string[] = [];
  statements.forEach((statement, index) => {
    const previous = statements[index - 1];
    const text = printer.printNode(ts.EmitHint.Unspecified, statement, host);
    const together = previous !== undefined && ts.isImportDeclaration(previous) && ts.isImportDeclaration(statement);
    parts.push(index === 0 ? text : `${together ? '\n' : '\n\n'}${text}`);
  });
  return formatText(`${parts.join('')}\n`, 'typescript');
}

/** Formats generated text (typescript, json, yaml, markdown) with the house style. */
export async function formatText(
  text: string,
  parser: 'typescript' | 'json' | 'json-stringify' | 'yaml' | 'markdown',
): Promise<string> {
  return format(text, { ...PRETTIER_OPTIONS, parser });
}

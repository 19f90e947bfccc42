import {
  access,
  assign,
  awaitExpr,
  call,
  conditional,
  constStmt,
  exprStmt,
  id,
  ifStmt,
  importNamed,
  lineComment,
  neq,
  num,
  or,
  str,
  template,
  undef,
  type Stmt,
} from '../syntax/ts-syntax.js';

const exitCode = () => access('process', 'exitCode');

/**
 * `src/index.ts`: checks the environment (so a missing credential is one clear line and exit 1), then
 * hands over to the runtime's `connectorMain` with the manifest next to the package root.
 */
export function indexModule(): Stmt[] {
  const includes = (flag: string) => call(access('argv', 'includes'), [str(flag)]);
  return [
    importNamed('@connector-factory/runtime', ['connectorMain']),
    importNamed('./config.js', ['MANIFEST_PATH', 'envProblem']),
    constStmt('argv', call(access('process', 'argv', 'slice'), [num(2)])),
    lineComment(
      constStmt('problem', conditional(or(includes('--help'), includes('-h')), undef(), call('envProblem'))),
      '--help needs no credentials; any run checks them first.',
    ),
    ifStmt(
      neq(id('problem'), undef()),
      [
        exprStmt(call(access('process', 'stderr', 'write'), [template(['error: ', id('problem'), '\n'])])),
        exprStmt(assign(exitCode(), num(1))),
      ],
      [exprStmt(assign(exitCode(), awaitExpr(call('connectorMain', [id('argv'), id('MANIFEST_PATH')]))))],
    ),
  ];
}

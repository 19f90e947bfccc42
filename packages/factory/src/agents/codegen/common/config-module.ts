import type { CodegenContext } from '../template.js';
import {
  access,
  array,
  arrayType,
  arrow,
  assign,
  call,
  conditional,
  constStmt,
  element,
  eq,
  exprStmt,
  fn,
  gt,
  id,
  ifStmt,
  importNamed,
  letStmt,
  neq,
  newExpr,
  not,
  num,
  qualifiedType,
  readonlyArray,
  ret,
  str,
  stringType,
  template,
  throwStmt,
  typeRef,
  undef,
  union,
  voidType,
  whileStmt,
  type Stmt,
} from '../syntax/ts-syntax.js';

const ENV_PARAM = { name: 'env', type: qualifiedType('NodeJS', 'ProcessEnv'), init: access('process', 'env') };

/**
 * `src/config.ts`: the connector's identity, where its manifest is, and the environment variables it
 * needs, checked at start with one clear line that names what is missing and never prints a value.
 */
export function configModule(context: CodegenContext): Stmt[] {
  const { manifest, requiredEnv } = context;
  return [
    importNamed('node:fs', ['existsSync']),
    importNamed('node:path', ['dirname', 'join']),
    importNamed('node:url', ['fileURLToPath']),
    importNamed('@connector-factory/runtime', ['RuntimeError']),
    constStmt('CONNECTOR_ID', str(manifest.id), { exported: true, doc: ['The connector this package runs.'] }),
    constStmt('REQUIRED_ENV', array(requiredEnv.map(str)), {
      exported: true,
      type: readonlyArray(stringType()),
      doc: [
        'Environment variables the connector needs: the credentials manifest.json references (and the PII key',
        'when fields are hashed or encrypted). Their values are read by the runtime and never printed.',
      ],
    }),
    constStmt(
      'PACKAGE_ROOT',
      call('findPackageRoot', [call('dirname', [call('fileURLToPath', [access(id('import'), 'meta', 'url')])])]),
      {
        exported: true,
        doc: ['The package folder: the nearest parent of this module that holds package.json.'],
      },
    ),
    constStmt('MANIFEST_PATH', call('join', [id('PACKAGE_ROOT'), str('manifest.json')]), {
      exported: true,
      doc: ['The Connector IR this package was generated from.'],
    }),
    fn(
      'missingEnv',
      [ENV_PARAM],
      arrayType(stringType()),
      [ret(call(access('REQUIRED_ENV', 'filter'), [arrow([{ name: 'name' }], not(element(id('env'), id('name'))))]))],
      { exported: true, doc: ['The required variables that are unset or empty.'] },
    ),
    fn(
      'envProblem',
      [ENV_PARAM],
      union([stringType(), typeRef('undefined')]),
      [
        constStmt('missing', call('missingEnv', [id('env')])),
        ifStmt(eq(access('missing', 'length'), num(0)), [ret(undef())]),
        ret(
          template([
            'missing environment variable',
            conditional(gt(access('missing', 'length'), num(1)), str('s'), str('')),
            ' ',
            call(access('missing', 'join'), [str(', ')]),
            `: ${manifest.id} reads its credentials from the environment (see README.md)`,
          ]),
        ),
      ],
      { exported: true, doc: ['One line naming every missing variable, or undefined when none is.'] },
    ),
    fn(
      'checkEnv',
      [ENV_PARAM],
      voidType(),
      [
        constStmt('problem', call('envProblem', [id('env')])),
        ifStmt(neq(id('problem'), undef()), [throwStmt(newExpr('RuntimeError', [str('config'), id('problem')]))]),
      ],
      { exported: true, doc: ["Throws a 'config' RuntimeError naming the missing variables."] },
    ),
    fn('findPackageRoot', [{ name: 'start', type: stringType() }], stringType(), [
      letStmt('dir', id('start')),
      whileStmt(not(call('existsSync', [call('join', [id('dir'), str('package.json')])])), [
        constStmt('parent', call('dirname', [id('dir')])),
        ifStmt(eq(id('parent'), id('dir')), [ret(id('start'))]),
        exprStmt(assign(id('dir'), id('parent'))),
      ]),
      ret(id('dir')),
    ]),
  ];
}

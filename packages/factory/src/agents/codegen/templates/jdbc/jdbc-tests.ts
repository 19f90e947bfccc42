import type { CodegenContext } from '../../template.js';
import { hasRowStats } from '../../common/loader-module.js';
import {
  access,
  and,
  array,
  arrow,
  as,
  assign,
  awaitExpr,
  call,
  conditional,
  constStmt,
  deleteExpr,
  element,
  eq,
  exprStmt,
  fn,
  forOf,
  gt,
  id,
  importDefault,
  importNamed,
  instanceOf,
  letStmt,
  lineComment,
  literal,
  newExpr,
  not,
  nullish,
  num,
  object,
  plusAssign,
  qualifiedType,
  regex,
  ret,
  spread,
  spreadAssignment,
  str,
  stringType,
  template,
  tryFinally,
  typeRef,
  unknownType,
  type Expr,
  type ObjectEntry,
  type Param,
  type Stmt,
} from '../../syntax/ts-syntax.js';

const assertCall = (method: string, ...args: Expr[]): Stmt => exprStmt(call(access('assert', method), args));

interface TestOptions {
  readonly async?: boolean;
  readonly skip?: Expr;
  readonly context?: boolean;
}

/** `test(name, [{ skip }], [async] ([t]) => { … })` */
function testCall(name: Expr, body: readonly Stmt[], options: TestOptions = {}): Stmt {
  const params: Param[] = options.context ? [{ name: 't' }] : [];
  return exprStmt(
    call('test', [
      name,
      ...(options.skip ? [object([['skip', options.skip]])] : []),
      arrow(params, body, options.async ? { async: true } : {}),
    ]),
  );
}

const loadManifest = (): Expr => awaitExpr(call('loadManifest', [id('MANIFEST_PATH')]));
const includes = (list: Expr, item: Expr): Expr => call(access(list, 'includes'), [item]);

/** `tests/client.test.ts`: the configuration check, offline. */
export function clientTest(context: CodegenContext): Stmt[] {
  const { requiredEnv } = context;
  const last = requiredEnv[requiredEnv.length - 1];
  const spawnIndex = (flag: string, env: Expr): Expr =>
    call('spawnSync', [
      access('process', 'execPath'),
      array([
        call('fileURLToPath', [newExpr('URL', [str('../src/index.js'), access(id('import'), 'meta', 'url')])]),
        str(flag),
      ]),
      object([
        ['env', env],
        ['encoding', str('utf8')],
      ]),
    ]);
  const environmentTests: Stmt[] =
    last === undefined
      ? [
          testCall(str('the connector needs no environment variables'), [
            assertCall('deepEqual', call('missingEnv', [object([])]), array([])),
          ]),
        ]
      : [
          testCall(str('an empty environment lacks every required variable'), [
            assertCall('deepEqual', call('missingEnv', [object([])]), array([spread(id('REQUIRED_ENV'))])),
          ]),
          testCall(
            str('the client refuses to start without its variables, naming them'),
            [
              constStmt('manifest', loadManifest()),
              assertCall(
                'throws',
                arrow([], call('createClient', [id('manifest'), object([])])),
                arrow(
                  [{ name: 'error', type: unknownType() }],
                  and(
                    instanceOf(id('error'), id('Error')),
                    call(access('REQUIRED_ENV', 'every'), [
                      arrow([{ name: 'name' }], includes(access('error', 'message'), id('name'))),
                    ]),
                  ),
                ),
              ),
            ],
            { async: true },
          ),
          testCall(str('the connector exits 1 with one line naming a missing variable, printing no value'), [
            constStmt('env', object([spreadAssignment(access('process', 'env'))]), {
              type: qualifiedType('NodeJS', 'ProcessEnv'),
            }),
            forOf('name', id('REQUIRED_ENV'), [exprStmt(assign(element(id('env'), id('name')), id('SENTINEL')))]),
            exprStmt(deleteExpr(element(id('env'), str(last)))),
            constStmt('result', spawnIndex('--once', id('env'))),
            assertCall('equal', access('result', 'status'), num(1)),
            assertCall(
              'equal',
              access(call(access(call(access('result', 'stderr', 'trim')), 'split'), [str('\n')]), 'length'),
              num(1),
            ),
            assertCall('match', access('result', 'stderr'), regex('^error: missing environment variable')),
            assertCall('ok', includes(access('result', 'stderr'), str(last))),
            assertCall('ok', not(includes(access('result', 'stderr'), id('SENTINEL')))),
          ]),
        ];
  return [
    importDefault('assert', 'node:assert/strict'),
    importNamed('node:child_process', ['spawnSync']),
    importNamed('node:test', ['test']),
    importNamed('node:url', ['fileURLToPath']),
    importNamed('@connector-factory/runtime', ['loadManifest']),
    importNamed('../src/client.js', ['createClient']),
    importNamed('../src/config.js', ['MANIFEST_PATH', 'REQUIRED_ENV', 'missingEnv']),
    constStmt('SENTINEL', str('sentinel-value-that-is-never-printed'), {
      doc: ['A value the tests give a variable; no output may show it.'],
    }),
    testCall(
      str('every variable the connection string and the lake path reference is required'),
      [
        constStmt('manifest', loadManifest()),
        assertCall('equal', access('manifest', 'source', 'type'), str('jdbc')),
        constStmt(
          'expanded',
          array([access('manifest', 'source', 'connectionString'), access('manifest', 'destination', 'lakePath')]),
        ),
        forOf('text', id('expanded'), [
          forOf('match', call(access('text', 'matchAll'), [regex('\\$\\{(\\w+)\\}', 'g')]), [
            assertCall(
              'ok',
              includes(id('REQUIRED_ENV'), nullish(element(id('match'), num(1)), str(''))),
              template([element(id('match'), num(0)), ' is not in REQUIRED_ENV']),
            ),
          ]),
        ]),
      ],
      { async: true },
    ),
    ...environmentTests,
    testCall(str('--help needs no credentials'), [
      constStmt('result', spawnIndex('--help', object([]))),
      assertCall('equal', access('result', 'status'), num(0)),
      assertCall('match', access('result', 'stdout'), regex('usage: connector')),
    ]),
  ];
}

function readModeChecks(context: CodegenContext): Stmt[] {
  const { schema } = context.manifest;
  switch (schema.updateStrategy) {
    case 'incremental':
      return [
        assertCall(
          'deepEqual',
          id('mode'),
          object([
            ['strategy', str('incremental')],
            ['cursor', str(schema.incrementalKey ?? '')],
          ]),
        ),
      ];
    case 'cdc':
      return [
        // CDC reads the source's change log: the runtime's `log` read mode.
        assertCall('equal', access('mode', 'strategy'), str('log')),
        assertCall(
          'ok',
          and(eq(access('mode', 'strategy'), str('log')), eq(access('mode', 'stopWhenCaughtUp'), literal(true))),
          str('a --once run stops when caught up'),
        ),
      ];
    case 'full_refresh':
      return [assertCall('deepEqual', id('mode'), object([['strategy', str('full_refresh')]]))];
  }
}

/** `tests/extractor.test.ts`: the manifest, the entities, the record fields and the read mode, offline. */
export function extractorTest(context: CodegenContext): Stmt[] {
  const fieldsOf = (name: Expr): Expr => nullish(call(access('RECORD_FIELDS', 'get'), [name]), array([]));
  return [
    importDefault('assert', 'node:assert/strict'),
    importNamed('node:test', ['test']),
    importNamed('@connector-factory/runtime', ['loadManifest']),
    importNamed('../src/config.js', ['CONNECTOR_ID', 'MANIFEST_PATH']),
    importNamed('../src/extractor.js', ['ENTITIES', 'entityRef', 'readMode']),
    importNamed('../src/transformer.js', [
      'RECORD_FIELDS',
      'createRecordTransformer',
      { name: 'EntityName', type: true },
    ]),
    lineComment(
      constStmt('manifest', loadManifest()),
      'loadManifest validates: a broken manifest.json fails every test here.',
    ),
    constStmt(
      'TEST_KEYS',
      object([
        ['CF_PII_HASH_KEY', str('a-test-key-of-at-least-16-characters')],
        [
          'CF_PII_ENCRYPTION_KEY',
          call(access(call(access('Buffer', 'alloc'), [num(32), num(7)]), 'toString'), [str('base64')]),
        ],
      ]),
      { doc: ['Keys for the PII transforms in these tests (made up here, not secrets).'] },
    ),
    testCall(str('manifest.json is a valid manifest of this connector'), [
      assertCall('equal', access('manifest', 'id'), id('CONNECTOR_ID')),
    ]),
    testCall(str("the entities are the manifest's, in order"), [
      assertCall(
        'deepEqual',
        array([spread(id('ENTITIES'))]),
        call(access('manifest', 'schema', 'entities', 'map'), [arrow([{ name: 'entity' }], access('entity', 'name'))]),
      ),
    ]),
    testCall(str('each record type has the fields the manifest gives its entity'), [
      constStmt('exclude', eq(access('manifest', 'governance', 'piiHandling'), str('exclude'))),
      assertCall('equal', access('RECORD_FIELDS', 'size'), access('manifest', 'schema', 'entities', 'length')),
      forOf('entity', access('manifest', 'schema', 'entities'), [
        constStmt(
          'expected',
          call(
            access(
              call(access('entity', 'fields', 'filter'), [
                arrow([{ name: 'field' }], not(and(id('exclude'), eq(access('field', 'pii'), literal(true))))),
              ]),
              'map',
            ),
            [arrow([{ name: 'field' }], access('field', 'name'))],
          ),
        ),
        assertCall(
          'deepEqual',
          call(access('RECORD_FIELDS', 'get'), [as(access('entity', 'name'), typeRef('EntityName'))]),
          id('expected'),
        ),
      ]),
    ]),
    testCall(str('entities are read with their record fields'), [
      forOf('name', id('ENTITIES'), [
        constStmt('ref', call('entityRef', [id('manifest'), id('name')])),
        assertCall('equal', access('ref', 'name'), id('name')),
        assertCall('deepEqual', access('ref', 'fields'), fieldsOf(id('name'))),
      ]),
    ]),
    testCall(str(`the read mode is ${context.manifest.schema.updateStrategy}, as the manifest says`), [
      constStmt('mode', call('readMode', [id('manifest'), object([['once', literal(true)]])])),
      ...readModeChecks(context),
    ]),
    testCall(str('the lake schema holds the record fields and the metadata columns'), [
      forOf('name', id('ENTITIES'), [
        constStmt(
          'columns',
          call(
            access(
              call('createRecordTransformer', [id('manifest'), id('name'), object([['env', id('TEST_KEYS')]])]),
              'schema',
              'columns',
              'map',
            ),
            [arrow([{ name: 'column' }], access('column', 'name'))],
          ),
        ),
        forOf(
          'field',
          array([spread(fieldsOf(id('name'))), ...['_extracted_at', '_connector_id', '_connector_version'].map(str)]),
          [assertCall('ok', includes(id('columns'), id('field')), template(['no lake column ', id('field')]))],
        ),
      ]),
    ]),
  ];
}

/** `tests/integration.test.ts`: one sync against the real source into a temporary lake, when configured. */
export function integrationTest(context: CodegenContext): Stmt[] {
  const { manifest, names } = context;
  const cdc = manifest.schema.updateStrategy === 'cdc';
  const stats = hasRowStats(manifest);
  const overrides: ObjectEntry[] = [
    spreadAssignment(id('manifest')),
    ['destination', object([spreadAssignment(access('manifest', 'destination')), ['lakePath', id('lakePath')]])],
  ];
  if (cdc) {
    overrides.push([
      'schema',
      object([spreadAssignment(access('manifest', 'schema')), ['updateStrategy', str('full_refresh')]]),
    ]);
  }
  const lakeRows = stats
    ? constStmt('lakeRows', awaitExpr(call('lakeRowCount', [call('tablePath', [id('manifest'), id('entity')])])))
    : lineComment(
        constStmt('lakeRows', access('summary', 'rowsWritten')),
        `${manifest.destination.format} files carry no row statistics in the table log: count what the sync committed.`,
      );
  return [
    importDefault('assert', 'node:assert/strict'),
    importNamed('node:fs/promises', ['mkdtemp', 'rm']),
    importNamed('node:os', ['tmpdir']),
    importNamed('node:path', ['join']),
    importNamed('node:test', ['test']),
    importNamed('@connector-factory/ir', ['ConnectorManifest'], true),
    importNamed('@connector-factory/runtime', ['loadManifest', 'runConnector']),
    importNamed('../src/client.js', ['createClient']),
    importNamed('../src/config.js', ['MANIFEST_PATH', 'missingEnv']),
    importNamed('../src/extractor.js', ['ENTITIES', 'extract']),
    ...(stats ? [importNamed('../src/loader.js', ['lakeRowCount', 'tablePath'])] : []),
    constStmt('missing', call('missingEnv')),
    constStmt(
      'skip',
      conditional(
        gt(access('missing', 'length'), num(0)),
        template(['set ', call(access('missing', 'join'), [str(', ')]), ' to run it against the real source']),
        literal(false),
      ),
      { doc: ['Without credentials the test is skipped, saying which variables it needs.'] },
    ),
    fn(
      'testManifest',
      [
        { name: 'manifest', type: typeRef('ConnectorManifest') },
        { name: 'lakePath', type: stringType() },
      ],
      typeRef('ConnectorManifest'),
      [ret(object(overrides))],
      {
        doc: cdc
          ? [
              'The manifest with its lake in a temporary folder, and CDC read as a full refresh: the test creates no',
              'replication slot on a real database (the runtime has its own CDC tests).',
            ]
          : ['The manifest with its lake in a temporary folder: the test never writes to the real lake.'],
      },
    ),
    forOf('entity', id('ENTITIES'), [
      testCall(
        template(['syncs ', id('entity'), ' into a fresh lake table holding every source row']),
        [
          constStmt('dir', awaitExpr(call('mkdtemp', [call('join', [call('tmpdir'), str(`${names.packageName}-`)])]))),
          exprStmt(
            call(access('t', 'after'), [
              arrow(
                [],
                call('rm', [
                  id('dir'),
                  object([
                    ['recursive', literal(true)],
                    ['force', literal(true)],
                  ]),
                ]),
              ),
            ]),
          ),
          constStmt('manifest', call('testManifest', [loadManifest(), call('join', [id('dir'), str('lake')])])),
          constStmt(
            'summary',
            awaitExpr(
              call('runConnector', [
                object([
                  ['manifest', id('manifest')],
                  ['entity', id('entity')],
                  ['once', literal(true)],
                  ['stateDir', call('join', [id('dir'), str('state')])],
                  ['logLevel', str('warn')],
                ]),
              ]),
            ),
          ),
          assertCall('ok', id('summary'), str('the sync returned no summary')),
          letStmt('sourceRows', num(0)),
          constStmt('source', call('createClient', [id('manifest')])),
          lineComment(
            tryFinally(
              [
                forOf(
                  'records',
                  call('extract', [
                    id('source'),
                    id('manifest'),
                    id('entity'),
                    object([['strategy', str('full_refresh')]]),
                  ]),
                  [exprStmt(plusAssign(id('sourceRows'), access('records', 'length')))],
                  true,
                ),
              ],
              [exprStmt(awaitExpr(call(access('source', 'close'))))],
            ),
            'The source, read again in full: the table name resolves exactly as it did for the sync.',
          ),
          lakeRows,
          assertCall(
            'equal',
            id('lakeRows'),
            id('sourceRows'),
            template([access('summary', 'rowsQuarantined'), ' rows were quarantined']),
          ),
        ],
        { async: true, skip: id('skip'), context: true },
      ),
    ]),
  ];
}

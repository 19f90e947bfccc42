import type { ConnectorManifest } from '@connector-factory/ir';
import type { CodegenContext } from '../template.js';
import {
  access,
  as,
  awaitExpr,
  call,
  destructure,
  fn,
  forOf,
  id,
  ifStmt,
  importNamed,
  letStmt,
  newExpr,
  num,
  numberType,
  object,
  paren,
  plusAssign,
  qualifiedType,
  ret,
  exprStmt,
  eq,
  stringType,
  typeLiteral,
  typeRef,
  undef,
  union,
  type Stmt,
} from '../syntax/ts-syntax.js';

/** Whether the lake format keeps per-file row counts in its log (parquet and delta do; json and avro do not). */
export function hasRowStats(manifest: ConnectorManifest): boolean {
  return manifest.destination.format === 'parquet' || manifest.destination.format === 'delta';
}

function describeDestination(manifest: ConnectorManifest): string {
  const { destination } = manifest;
  const keys = destination.mergeKeys ?? manifest.schema.entities[0]?.primaryKey ?? [];
  const mode =
    destination.writeMode === 'merge' && keys.length > 0 ? `merge on ${keys.join(', ')}` : destination.writeMode;
  return [destination.format, destination.compression, mode].filter((part) => part !== undefined).join(', ');
}

const ENV_PARAM = { name: 'env', type: qualifiedType('NodeJS', 'ProcessEnv'), init: access('process', 'env') };

/** The row count of a table from its log: Delta's add actions or the plain log's files, both with stats. */
function rowCountFunction(manifest: ConnectorManifest): Stmt {
  const delta = manifest.destination.format === 'delta';
  const snapshot = delta
    ? call(
        access(paren(awaitExpr(call(access('DeltaLog', 'open'), [call('openStore', [id('tablePath')])]))), 'snapshot'),
      )
    : call(access(newExpr('PlainLog', [call('openStore', [id('tablePath')])]), 'snapshot'));
  const statsOf = delta
    ? [
        ifStmt(eq(access('file', 'stats'), undef()), [ret(undef())]),
        exprStmt(
          plusAssign(
            id('rows'),
            access(
              paren(
                as(
                  call(access('JSON', 'parse'), [access('file', 'stats')]),
                  typeLiteral([{ name: 'numRecords', type: numberType(), readonly: true }]),
                ),
              ),
              'numRecords',
            ),
          ),
        ),
      ]
    : [
        ifStmt(eq(access('file', 'stats'), undef()), [ret(undef())]),
        exprStmt(plusAssign(id('rows'), access('file', 'stats', 'numRecords'))),
      ];
  return fn(
    'lakeRowCount',
    [{ name: 'tablePath', type: stringType() }],
    typeRef('Promise', [union([numberType(), typeRef('undefined')])]),
    [
      destructure(['files'], awaitExpr(snapshot)),
      letStmt('rows', num(0)),
      forOf('file', call(access('files', 'values')), statsOf),
      ret(id('rows')),
    ],
    {
      exported: true,
      async: true,
      doc: [
        "Rows in the table's live files, from the per-file statistics its log keeps (undefined when a file has none):",
        'what a reader of the table sees, without reading the data.',
      ],
    },
  );
}

/**
 * `src/loader.ts`: where an entity's lake table is and how its writer opens; the runtime's writer
 * stages, commits atomically with the batch id and keeps the table's log.
 */
export function loaderModule(context: CodegenContext): Stmt[] {
  const { manifest } = context;
  const delta = manifest.destination.format === 'delta';
  const logClass = delta ? 'DeltaLog' : 'PlainLog';
  return [
    importNamed('@connector-factory/ir', ['ConnectorManifest'], true),
    importNamed('@connector-factory/runtime', [
      ...(hasRowStats(manifest) ? [logClass] : []),
      'openLakeWriter',
      ...(hasRowStats(manifest) ? ['openStore'] : []),
      'tablePathOf',
      { name: 'LakeWriter', type: true },
      { name: 'TableSchema', type: true },
    ]),
    importNamed('./transformer.js', ['EntityName'], true),
    fn(
      'tablePath',
      [
        { name: 'manifest', type: typeRef('ConnectorManifest') },
        { name: 'entity', type: typeRef('EntityName') },
        ENV_PARAM,
      ],
      stringType(),
      [ret(call('tablePathOf', [id('manifest'), id('entity'), id('env')]))],
      {
        exported: true,
        doc: [
          `The lake table of an entity: destination.lakePath (${JSON.stringify(manifest.destination.lakePath)}) itself for one entity,`,
          'a folder per entity under it for several; ${VARS} in the path come from the environment.',
        ],
      },
    ),
    fn(
      'openLoader',
      [
        { name: 'manifest', type: typeRef('ConnectorManifest') },
        { name: 'entity', type: typeRef('EntityName') },
        { name: 'schema', type: typeRef('TableSchema') },
        ENV_PARAM,
      ],
      typeRef('Promise', [typeRef('LakeWriter')]),
      [
        destructure(['destination'], id('manifest')),
        ret(
          call('openLakeWriter', [
            object(
              [
                ['lakePath', call('tablePath', [id('manifest'), id('entity'), id('env')])],
                ['format', access('destination', 'format')],
                ['compression', access('destination', 'compression')],
                ['writeMode', access('destination', 'writeMode')],
                ['schema', id('schema')],
                ['appId', access('manifest', 'id')],
              ],
              true,
            ),
          ]),
        ),
      ],
      {
        exported: true,
        doc: [
          `Opens the writer of an entity's table (${describeDestination(manifest)}). Each batch commits atomically`,
          'with its batch id, so a replay after a crash writes nothing twice.',
        ],
      },
    ),
    ...(hasRowStats(manifest) ? [rowCountFunction(manifest)] : []),
  ];
}

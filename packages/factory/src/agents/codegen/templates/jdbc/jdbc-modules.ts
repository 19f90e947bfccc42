import { sourceLocation } from '@connector-factory/ir';
import type { CodegenContext } from '../../template.js';
import {
  access,
  array,
  as,
  call,
  exprStmt,
  fn,
  forOf,
  id,
  importNamed,
  indexed,
  object,
  qualifiedType,
  readonlyArray,
  ret,
  str,
  typeLiteral,
  typeRef,
  booleanType,
  constStmt,
  yieldExpr,
  lineComment,
  unknownType,
  type Stmt,
} from '../../syntax/ts-syntax.js';
import { providerLabel } from './jdbc-providers.js';

/** `src/client.ts`: the source, opened by the runtime from the connection string reference. */
export function clientModule(context: CodegenContext): Stmt[] {
  const { manifest, requiredEnv } = context;
  const { connectionString } = sourceLocation(manifest.source);
  const connection = requiredEnv.filter((name) => connectionString?.includes(`\${${name}}`));
  const from =
    connection.length > 0
      ? `from source.connectionString (${connection.map((name) => `\${${name}}`).join(', ')})`
      : 'from source.connectionString';
  return [
    importNamed('@connector-factory/ir', ['ConnectorManifest'], true),
    importNamed('@connector-factory/runtime', ['createSource', { name: 'Source', type: true }]),
    importNamed('./config.js', ['checkEnv']),
    fn(
      'createClient',
      [
        { name: 'manifest', type: typeRef('ConnectorManifest') },
        { name: 'env', type: qualifiedType('NodeJS', 'ProcessEnv'), init: access('process', 'env') },
      ],
      typeRef('Source'),
      [exprStmt(call('checkEnv', [id('env')])), ret(call('createSource', [id('manifest'), id('env')]))],
      {
        exported: true,
        doc: [
          `The source client: a ${providerLabel(manifest.source.provider)} connection the runtime opens ${from};`,
          'TLS settings travel in the connection string (?sslmode=verify-full&sslrootcert=/etc/ca.pem).',
          'check() verifies the credentials and read permissions; reads go in chunks, each a point to resume from.',
        ],
      },
    ),
  ];
}

function readModeDoc(context: CodegenContext): string[] {
  const { schema } = context.manifest;
  switch (schema.updateStrategy) {
    case 'full_refresh':
      return ['How entities are read: a full refresh, every row each run.'];
    case 'incremental':
      return [
        `How entities are read: incrementally, rows whose ${JSON.stringify(schema.incrementalKey ?? '')} is past the last checkpoint,`,
        'in key order, so an interrupted run resumes where it stopped.',
      ];
    case 'cdc':
      return [
        'How entities are read: change data capture from a logical replication slot and publication named after',
        'the connector (an initial snapshot, then every insert, update and delete); a --once run stops when caught up.',
      ];
  }
}

/** `src/extractor.ts`: the entities, what is read of each, and how (the read mode). */
export function extractorModule(context: CodegenContext): Stmt[] {
  const manifestParam = { name: 'manifest', type: typeRef('ConnectorManifest') };
  return [
    importNamed('@connector-factory/ir', ['ConnectorManifest'], true),
    importNamed('@connector-factory/runtime', [
      'entityOf',
      'entityRefOf',
      'readModeOf',
      'sourceFieldsFor',
      { name: 'EntityRef', type: true },
      { name: 'ReadMode', type: true },
      { name: 'Source', type: true },
      { name: 'SourceState', type: true },
    ]),
    importNamed('./transformer.js', ['EntityName', 'EntityRecords'], true),
    constStmt('ENTITIES', array(context.entities.map(({ entity }) => str(entity.name))), {
      exported: true,
      type: readonlyArray(typeRef('EntityName')),
      doc: ['The entities this connector reads, in manifest order: tables or views, optionally schema-qualified.'],
    }),
    fn(
      'entityRef',
      [manifestParam, { name: 'entity', type: typeRef('EntityName') }],
      typeRef('EntityRef'),
      [
        ret(
          call('entityRefOf', [
            call('entityOf', [id('manifest'), id('entity')]),
            call('sourceFieldsFor', [id('manifest'), id('entity')]),
          ]),
        ),
      ],
      {
        exported: true,
        doc: ['What the source reads of an entity: its table, the fields the lake keeps (not excluded PII), its key.'],
      },
    ),
    fn(
      'readMode',
      [
        manifestParam,
        {
          name: 'options',
          type: typeLiteral([{ name: 'once', type: booleanType(), readonly: true, optional: true }]),
          init: object([]),
        },
      ],
      typeRef('ReadMode'),
      [ret(call('readModeOf', [id('manifest'), id('options')]))],
      { exported: true, doc: readModeDoc(context) },
    ),
    fn(
      'extract',
      [
        { name: 'source', type: typeRef('Source') },
        manifestParam,
        { name: 'entity', type: typeRef('E') },
        { name: 'mode', type: typeRef('ReadMode') },
        { name: 'state', type: typeRef('SourceState'), optional: true },
      ],
      typeRef('AsyncGenerator', [readonlyArray(indexed(typeRef('EntityRecords'), typeRef('E')))]),
      [
        forOf(
          'chunk',
          call(access('source', 'read'), [call('entityRef', [id('manifest'), id('entity')]), id('mode'), id('state')]),
          [
            lineComment(
              exprStmt(
                yieldExpr(
                  as(
                    as(access('chunk', 'rows'), unknownType()),
                    readonlyArray(indexed(typeRef('EntityRecords'), typeRef('E'))),
                  ),
                ),
              ),
              "Rows hold the entity's fields as the source sends them, which is what its record type describes.",
            ),
          ],
          true,
        ),
      ],
      {
        exported: true,
        async: true,
        generator: true,
        typeParams: [['E', typeRef('EntityName')]],
        doc: [
          "Reads an entity's records in chunks, from `state` (undefined: from the start). The runtime's run loop",
          'does this for a sync, and commits each chunk to the lake before it checkpoints.',
        ],
      },
    ),
  ];
}

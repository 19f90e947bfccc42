import type { Field, PiiHandling } from '@connector-factory/ir';
import type { CodegenContext } from '../template.js';
import {
  array,
  asConst,
  booleanType,
  call,
  constStmt,
  fn,
  id,
  importNamed,
  interfaceDecl,
  keyOf,
  newExpr,
  nullType,
  numberType,
  object,
  parenType,
  qualifiedType,
  readonlyArray,
  ret,
  satisfies,
  str,
  stringType,
  typeAlias,
  typeLiteral,
  typeRef,
  union,
  unknownType,
  intersection,
  type Member,
  type Stmt,
  type TypeNode,
} from '../syntax/ts-syntax.js';

/**
 * IR field types as a source sends them. Numbers are `NumberValue` (number | string): int64 and
 * decimal values arrive as exact decimal strings, since a JavaScript number would round them.
 */
function fieldType(field: Field): TypeNode {
  const base: Record<Field['type'], () => TypeNode> = {
    string: stringType,
    number: () => typeRef('NumberValue'),
    boolean: booleanType,
    date: stringType,
    datetime: stringType,
    json: unknownType,
  };
  const type = base[field.type]();
  return field.nullable && field.type !== 'json' ? union([type, nullType()]) : type;
}

const PII_NOTE: Record<PiiHandling, string> = {
  mask: 'PII: masked before it reaches the lake.',
  hash: 'PII: hashed (HMAC-SHA256) before it reaches the lake.',
  encrypt: 'PII: encrypted (AES-256-GCM) before it reaches the lake.',
  exclude: 'PII: excluded, never read.',
};

const TYPE_NOTE: Partial<Record<Field['type'], string>> = {
  date: 'A date, YYYY-MM-DD.',
  datetime: 'A timestamp, ISO 8601.',
  json: 'Parsed JSON.',
};

function fieldDoc(field: Field, handling: PiiHandling): string[] {
  const notes = [TYPE_NOTE[field.type], field.pii === true ? PII_NOTE[handling] : undefined];
  const text = notes.filter((n) => n !== undefined).join(' ');
  return text === '' ? [] : [text];
}

/**
 * `src/transformer.ts`: a typed record interface per entity (built from the manifest's fields), the
 * field lists the tests compare with the manifest, and the runtime transformer.
 */
export function transformerModule(context: CodegenContext): Stmt[] {
  const { manifest, entities } = context;
  const handling = manifest.governance.piiHandling;
  const excluded = handling === 'exclude' ? ' PII fields are excluded and never read.' : '';
  const records = entities.flatMap(({ entity, recordType, fieldsConst, fields }) => [
    interfaceDecl(
      recordType,
      fields.map((field): Member => ({
        name: field.name,
        type: fieldType(field),
        readonly: true,
        doc: fieldDoc(field, handling),
      })),
      { exported: true, doc: [`A record of entity ${JSON.stringify(entity.name)} as the source sends it.${excluded}`] },
    ),
    constStmt(
      fieldsConst,
      satisfies(
        asConst(array(fields.map((field) => str(field.name)))),
        readonlyArray(parenType(keyOf(typeRef(recordType)))),
      ),
      { exported: true, doc: [`The fields of ${recordType}, in manifest order.`] },
    ),
  ]);
  return [
    importNamed('@connector-factory/ir', ['ConnectorManifest'], true),
    importNamed('@connector-factory/runtime', [
      'createTransformer',
      { name: 'SourceColumn', type: true },
      { name: 'Transformer', type: true },
    ]),
    typeAlias('NumberValue', union([numberType(), stringType()]), {
      exported: true,
      doc: [
        'A number as the source sends it: a number, or an exact decimal string for int64 and decimal values',
        'that a JavaScript number would round (the lake stores the exact value).',
      ],
    }),
    ...records,
    interfaceDecl(
      'EntityRecords',
      entities.map(({ entity, recordType }) => ({ name: entity.name, type: typeRef(recordType), readonly: true })),
      { exported: true, doc: ["Every entity's record type, by the entity's name."] },
    ),
    typeAlias('EntityName', intersection([keyOf(typeRef('EntityRecords')), stringType()]), {
      exported: true,
      doc: ['The name of an entity of this connector.'],
    }),
    constStmt(
      'RECORD_FIELDS',
      newExpr(
        'Map',
        [
          array(
            entities.map(({ entity, fieldsConst }) => array([str(entity.name), id(fieldsConst)])),
            true,
          ),
        ],
        [typeRef('EntityName'), readonlyArray(stringType())],
      ),
      {
        exported: true,
        type: typeRef('ReadonlyMap', [typeRef('EntityName'), readonlyArray(stringType())]),
        doc: ["Each entity's record fields, in manifest order."],
      },
    ),
    fn(
      'createRecordTransformer',
      [
        { name: 'manifest', type: typeRef('ConnectorManifest') },
        { name: 'entity', type: typeRef('EntityName') },
        {
          name: 'options',
          type: typeLiteral([
            { name: 'sourceColumns', type: readonlyArray(typeRef('SourceColumn')), readonly: true, optional: true },
            { name: 'env', type: qualifiedType('NodeJS', 'ProcessEnv'), readonly: true, optional: true },
          ]),
          init: object([]),
        },
      ],
      typeRef('Transformer'),
      [ret(call('createTransformer', [id('manifest'), id('entity'), id('options')]))],
      {
        exported: true,
        doc: [
          `The transformer of an entity: PII fields handled per governance.piiHandling (${handling}), the metadata`,
          `columns _extracted_at, _connector_id, _connector_version${manifest.schema.updateStrategy === 'cdc' ? ' and _op' : ''} added, and the lake table's schema.`,
          "The source's catalog columns (`sourceColumns`) let number hints such as int64 or decimal(12,2) pick exact lake types.",
        ],
      },
    ),
  ];
}

import { InvalidArgumentError, type Command } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { LAKE_FORMATS, type LakeFormat } from '@connector-factory/ir';
import {
  FactoryError,
  composeManifest,
  digestOf,
  extractSchema,
  factoryHome,
  inferProvider,
  referencedVariables,
  withStoredSecrets,
  type JdbcProvider,
  type SchemaDefinition,
  type SourceManifest,
} from '@connector-factory/factory';
import { audited, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

interface SchemaOptions extends FactoryOptions {
  readonly connection?: string;
  readonly discovery?: string;
  readonly manifest?: string;
  readonly lake?: string;
  readonly format?: LakeFormat;
  readonly provider?: JdbcProvider;
  readonly entities?: string[];
  readonly schema?: string;
  readonly cdc?: boolean;
  readonly sampleRows?: number;
  readonly json?: boolean;
}

function parseProvider(value: string): JdbcProvider {
  const provider = value.toLowerCase();
  if (provider === 'postgres' || provider === 'postgresql' || provider === 'pg') return 'postgres';
  if (provider === 'mysql' || provider === 'mariadb') return 'mysql';
  throw new InvalidArgumentError('expected postgres or mysql');
}

function parseFormat(value: string): LakeFormat {
  if ((LAKE_FORMATS as readonly string[]).includes(value)) return value as LakeFormat;
  throw new InvalidArgumentError(`expected one of ${LAKE_FORMATS.join(', ')}`);
}

async function readSourceManifest(file: string): Promise<SourceManifest> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as SourceManifest;
    if (typeof parsed.provider !== 'string' || !Array.isArray(parsed.suggestedEntities))
      throw new Error('not a SourceManifest');
    return parsed;
  } catch (error) {
    throw new FactoryError(
      'invalid_input',
      `${file}: not a SourceManifest from \`connector-factory discover --json\` (${(error as Error).message})`,
    );
  }
}

function parseEntities(value: string): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected a comma-separated list of tables');
  return names;
}

function parseRows(value: string): number {
  const rows = Number(value);
  if (!Number.isInteger(rows) || rows < 0 || rows > 100_000) {
    throw new InvalidArgumentError('expected a whole number from 0 to 100000');
  }
  return rows;
}

/** The human summary: entities, relationships, strategy and why, notes. */
export function formatSchema(definition: SchemaDefinition): string {
  const piiByEntity = new Map<string, string[]>();
  for (const finding of definition.pii) {
    const fields = piiByEntity.get(finding.entity) ?? [];
    fields.push(finding.field);
    piiByEntity.set(finding.entity, fields);
  }
  const lines: string[] = [
    table([
      ['ENTITY', 'FIELDS', 'PRIMARY KEY', 'PII'],
      ...definition.entities.map((entity) => [
        entity.name,
        String(entity.fields.length),
        entity.primaryKey?.join(', ') ?? '-',
        piiByEntity.get(entity.name)?.join(', ') ?? '-',
      ]),
    ]),
  ];
  if (definition.pii.length > 0) {
    lines.push('', 'PII:');
    for (const finding of definition.pii) {
      lines.push(`  ${finding.entity}.${finding.field}: ${finding.reasons.join('; ')}`);
    }
  }
  lines.push('', 'Relationships:');
  if (definition.relationships.length === 0) lines.push('  (none)');
  for (const relationship of definition.relationships) {
    lines.push(
      `  ${relationship.from.entity}.${relationship.from.field} → ${relationship.to.entity}.${relationship.to.field} (${relationship.type})`,
    );
  }
  let strategy: string = definition.updateStrategy;
  if (definition.incrementalKey !== undefined) strategy += ` on ${definition.incrementalKey}`;
  if (definition.cdcConfig !== undefined) {
    strategy += ` (cursor ${definition.cdcConfig.cursorField}, ${definition.cdcConfig.cursorType})`;
  }
  if (definition.mergeKeys !== undefined) strategy += `; merge keys ${definition.mergeKeys.join(', ')}`;
  lines.push('', `Update strategy: ${strategy}`);
  for (const own of definition.strategies) lines.push(`  ${own.entity}: ${own.why}`);
  const rest = definition.notes.filter(
    (note) => !definition.strategies.some((own) => note === `${own.entity}: ${own.why}`),
  );
  if (rest.length > 0) {
    lines.push('', 'Notes:');
    for (const note of rest) lines.push(`  - ${note}`);
  }
  return lines.join('\n');
}

export function registerSchema(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(program.command('schema'))
    .description('read a database schema and map it to the Connector IR (entities, keys, relationships, PII, strategy)')
    .option(
      '--connection <reference>',
      "connection string as an env-var reference, e.g. '${PG_URL}' (single quotes: the CLI expands it, never prints it)",
    )
    .option(
      '--discovery <file>',
      'a SourceManifest from `discover --json`: its connection, provider, entities and intent',
    )
    .option('--manifest <file>', 'also write the complete connector manifest (source + schema + destination defaults)')
    .option('--lake <path>', 'with --manifest: where the table lands (local folder or s3://bucket/prefix/)')
    .option(
      '--format <format>',
      'with --manifest: parquet, json, avro or delta (default: delta to merge, else parquet)',
      parseFormat,
    )
    .option('--provider <provider>', 'postgres or mysql (default: from the URL scheme)', parseProvider)
    .option('--entities <tables>', 'only these tables, comma-separated (default: all)', parseEntities)
    .option('--schema <name>', 'PostgreSQL schema (default public) or MySQL database (default the connection’s)')
    .option('--cdc', 'use change data capture where the source allows it')
    .option('--sample-rows <n>', 'rows sampled per table for PII detection (default 200, 0 = none)', parseRows)
    .option('--json', 'print the SchemaDefinition as JSON')
    .addHelpText(
      'after',
      '\nCredentials come only from environment variables or the secret store (`connector-factory secrets set`);\n' +
        'a literal password in --connection is refused.\n' +
        'Exit status: 0 ok, 1 invalid input (connection, credentials, unknown table), 2 usage, 3 internal error.\n' +
        "\nExamples:\n  connector-factory schema --connection '${PG_URL}' --entities orders,customers --cdc\n" +
        "  connector-factory schema --connection '${MYSQL_URL}' --json",
    )
    .action(async (options: SchemaOptions) => {
      await audited(
        options,
        { action: 'extract_schema', agent: 'schema', what: 'introspecting a source' },
        async () => {
          const discovery = options.discovery !== undefined ? await readSourceManifest(options.discovery) : undefined;
          const connection = options.connection ?? discovery?.connectionString;
          if (connection === undefined) {
            throw new FactoryError(
              'usage',
              'give --connection (an env-var reference) or --discovery with a connection string',
            );
          }
          // What the connection references: from the environment, else from the secret store.
          const env = await withStoredSecrets(process.env, referencedVariables(connection), { home: factoryHome() });
          const provider =
            options.provider ??
            (discovery?.provider === 'postgres' || discovery?.provider === 'mysql' ? discovery.provider : undefined) ??
            inferProvider(connection, env);
          if (provider === undefined) {
            throw new FactoryError('usage', 'cannot tell the provider from the connection URL scheme', [
              'pass --provider postgres or --provider mysql',
            ]);
          }
          const definition = await extractSchema(
            { type: 'jdbc', provider, connectionString: connection },
            {
              env,
              ...(options.entities !== undefined
                ? { entities: options.entities }
                : discovery && discovery.suggestedEntities.length > 0
                  ? { entities: discovery.suggestedEntities }
                  : {}),
              // Names a user typed, matched against the live catalog; a manifest gets one table unless asked for all.
              match: 'typed',
              ...(options.manifest !== undefined && discovery?.allEntities !== true ? { unnamed: 'one' } : {}),
              ...(discovery?.strategy.namedCursor !== undefined
                ? { incrementalKey: discovery.strategy.namedCursor }
                : {}),
              ...(options.schema !== undefined ? { schema: options.schema } : {}),
              ...(options.cdc === true || discovery?.strategy.updateStrategy === 'cdc' ? { wantCdc: true } : {}),
              ...(options.sampleRows !== undefined ? { sampleRows: options.sampleRows } : {}),
            },
          );
          let written: string | undefined;
          const outputs: Record<string, string> = { schema: digestOf(definition) };
          if (options.manifest !== undefined) {
            if (!discovery)
              throw new FactoryError('usage', '--manifest needs --discovery (the source half of the manifest)');
            const manifest = composeManifest(discovery, definition, {
              env,
              ...(options.lake !== undefined ? { lakePath: options.lake } : {}),
              ...(options.format !== undefined ? { format: options.format } : {}),
            });
            await writeFile(options.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
            written = manifest.id;
            outputs.manifest = digestOf(manifest);
          }
          if (options.json) printJson(io, definition);
          else io.out(formatSchema(definition));
          if (written !== undefined)
            io.err(
              `wrote ${options.manifest} (${written}); next: connector-factory generate ${options.manifest} --out <dir>`,
            );
          setExit(EXIT.ok);
          return {
            resource: `${provider}:${definition.entities.map((entity) => entity.name).join(',')}`,
            inputs: { source: digestOf({ provider, connection }) },
            outputs,
          };
        },
      );
    });
}

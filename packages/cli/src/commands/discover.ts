import type { Command } from 'commander';
import { digestOf, discover, loadProviderRegistry, type SourceManifest } from '@connector-factory/factory';
import { audited, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

interface DiscoverOptions extends FactoryOptions {
  readonly connection?: string;
  readonly openapi?: string;
  readonly graphql?: string;
  readonly json?: boolean;
}

function authText(manifest: SourceManifest): string {
  const config = Object.entries(manifest.auth.config).map(
    ([key, value]) => `${key} ${Array.isArray(value) ? value.join(' ') : String(value)}`,
  );
  return config.length > 0 ? `${manifest.auth.method} (${config.join(', ')})` : manifest.auth.method;
}

/** The human summary: what was found, then which words matched what, then what to check. */
export function formatSourceManifest(manifest: SourceManifest): { summary: string; warnings: string[] } {
  const rows: string[][] = [];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') rows.push([label, value]);
  };
  add('provider', `${manifest.displayName} (${manifest.provider}), ${manifest.type}, template ${manifest.template}`);
  add('base URL', manifest.baseUrl);
  add('connection', manifest.connectionString);
  add('auth', authText(manifest));
  if (manifest.rateLimit) {
    add('rate limit', `${manifest.rateLimit.requestsPerSecond} req/s, burst ${manifest.rateLimit.burstLimit}`);
  }
  add('entities', manifest.suggestedEntities.join(', ') || '(none named)');
  const key = manifest.strategy.incrementalKey !== undefined ? ` on ${manifest.strategy.incrementalKey}` : '';
  add('strategy', `${manifest.strategy.updateStrategy}${key}: ${manifest.strategy.reason}`);
  const { schedule } = manifest;
  const when =
    schedule.type === 'cron'
      ? schedule.expression
      : schedule.type === 'interval'
        ? `every ${schedule.intervalSeconds} s`
        : schedule.type === 'event'
          ? schedule.eventSource
          : undefined;
  add('schedule', `${schedule.type}${when !== undefined ? ` ${when}` : ''}: ${schedule.reason}`);
  if (manifest.destination) {
    const { lakePath, format } = manifest.destination;
    add('destination', [lakePath, format !== undefined ? `as ${format}` : undefined].filter(Boolean).join(' '));
  }
  const lines = [table(rows)];
  if (manifest.matches.length > 0) {
    lines.push('', 'Matched:');
    lines.push(table(manifest.matches.map((m) => [`  "${m.words}"`, `→ ${m.meaning}`])));
  }
  return { summary: lines.join('\n'), warnings: manifest.warnings };
}

export function registerDiscover(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  withFactoryOptions(program.command('discover'))
    .description('find the source a description names: provider, auth, entities, strategy and schedule')
    .argument('[description...]', 'what to connect, in words')
    .option(
      '--connection <string>',
      "database connection string or env-var reference such as '${PG_URL}' (a password in it is never printed)",
    )
    .option('--openapi <file>', 'OpenAPI 3 / Swagger 2 document, JSON or YAML (read from disk, never fetched)')
    .option('--graphql <url>', 'GraphQL endpoint URL')
    .option('--json', 'print the SourceManifest as JSON')
    .addHelpText(
      'after',
      '\nExit status: 0 found, 1 unknown provider or ambiguous description, 2 nothing to discover.\n' +
        '\nExamples:\n' +
        '  connector-factory discover "Connect to Salesforce and stream Opportunity data"\n' +
        '  connector-factory discover "Stream changes from orders table in Postgres" --json\n' +
        '  connector-factory discover --connection \'${PG_URL}\' "customers table, every 15 minutes, to s3://lake/pg as delta"\n' +
        '  connector-factory discover --openapi ./openapi.yaml "invoices daily at 2am"',
    )
    .action(async (words: string[], options: DiscoverOptions) => {
      const registry = await loadProviderRegistry();
      await audited(options, { action: 'discover', agent: 'discovery', what: 'discovering a source' }, async () => {
        const description = words.join(' ');
        const manifest = await discover(
          {
            description,
            env: process.env,
            ...(options.connection !== undefined ? { connection: options.connection } : {}),
            ...(options.openapi !== undefined ? { openapi: options.openapi } : {}),
            ...(options.graphql !== undefined ? { graphqlEndpoint: options.graphql } : {}),
          },
          registry,
        );
        if (options.json) {
          printJson(io, manifest);
        } else {
          const { summary, warnings } = formatSourceManifest(manifest);
          io.out(summary);
          for (const warning of warnings) io.err(`warning: ${warning}`);
        }
        setExit(EXIT.ok);
        return {
          resource: manifest.provider,
          inputs: { description: digestOf(description) },
          outputs: { sourceManifest: digestOf(manifest) },
        };
      });
    });
}

import type { Command } from 'commander';
import type { ProviderDefinition } from '@connector-factory/ir';
import { loadProviderRegistry } from '@connector-factory/factory';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

function describe(provider: ProviderDefinition): string {
  const lines: string[] = [`${provider.displayName} (${provider.provider})`];
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') lines.push(`  ${label.padEnd(20)}${value}`);
  };
  add('description', provider.description);
  add('type', `${provider.type} (template ${provider.template})`);
  add('aliases', provider.aliases.join(', '));
  add('base URL', provider.baseUrl);
  add('connection', provider.connectionString);
  const methods = [provider.auth.defaultMethod, ...(provider.auth.methods ?? [])];
  add('auth', `${methods.join(', ')} (default ${provider.auth.defaultMethod})`);
  const method = provider.auth.defaultMethod;
  const config = (provider.auth as Record<string, unknown>)[method];
  if (config && typeof config === 'object') {
    for (const [key, value] of Object.entries(config))
      add(`  ${key}`, Array.isArray(value) ? value.join(', ') : String(value));
  }
  if (provider.rateLimit) {
    const { requestsPerSecond, burstLimit, retryAfterHeader, notes } = provider.rateLimit;
    add(
      'rate limit',
      `${requestsPerSecond} req/s, burst ${burstLimit}${retryAfterHeader ? `, honours ${retryAfterHeader}` : ''}`,
    );
    add('', notes);
  }
  if (provider.pagination)
    add(
      'pagination',
      `${provider.pagination.style}${provider.pagination.param ? ` (${provider.pagination.param})` : ''}`,
    );
  add('entities', provider.entities.common.join(', '));
  add('incremental', provider.entities.incrementalField);
  add('strategies', provider.strategies.join(', '));
  add('features', provider.features?.join(', '));
  add('docs', provider.documentation);
  return lines.join('\n');
}

export function registerProviders(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const providers = program
    .command('providers')
    .description('list the provider registry, or show one provider')
    .addHelpText('after', '\nExamples:\n  connector-factory providers\n  connector-factory providers show pg --json');

  const list = async (options: { json?: boolean; type?: string }) => {
    const registry = await loadProviderRegistry();
    const rows = registry.list().filter((p) => options.type === undefined || p.type === options.type);
    if (options.json) printJson(io, rows);
    else {
      io.out(
        table([
          ['PROVIDER', 'TYPE', 'AUTH', 'ALIASES'],
          ...rows.map((p) => [p.provider, p.type, p.auth.defaultMethod, p.aliases.join(', ')]),
        ]),
      );
    }
    setExit(EXIT.ok);
  };

  providers
    .command('list', { isDefault: true })
    .description('list every provider')
    .option('--json', 'print the providers as JSON')
    .option('--type <type>', 'only providers of this source type (rest_api, jdbc, …)')
    .action(list);

  providers
    .command('show')
    .description('show one provider by name or alias')
    .argument('<name>', 'provider name or alias, e.g. postgres, pg, sfdc')
    .option('--json', 'print the provider as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const registry = await loadProviderRegistry();
      const provider = registry.get(name);
      if (options.json) printJson(io, provider);
      else io.out(describe(provider));
      setExit(EXIT.ok);
    });
}

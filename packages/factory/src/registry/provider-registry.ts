import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProviderDefinition, closest, formatPath, type JsonPath } from '@connector-factory/ir';
import { FactoryError } from '../errors.js';
import { parseStructuredText } from '../source-text.js';

/** The provider registry: one validated YAML file per provider, looked up by name or alias. */
export class ProviderRegistry {
  private readonly byKey = new Map<string, ProviderDefinition>();

  constructor(
    readonly directory: string,
    private readonly providers: readonly ProviderDefinition[],
  ) {
    for (const provider of providers) {
      for (const key of [provider.provider, ...provider.aliases]) this.byKey.set(normalise(key), provider);
    }
  }

  /** Every provider, sorted by name. */
  list(): readonly ProviderDefinition[] {
    return this.providers;
  }

  /** The provider with this name or alias (case, spaces and punctuation ignored), if any. */
  find(nameOrAlias: string): ProviderDefinition | undefined {
    return this.byKey.get(normalise(nameOrAlias));
  }

  /** Like find, but a miss is a `not_found` error that names the closest providers. */
  get(nameOrAlias: string): ProviderDefinition {
    const found = this.find(nameOrAlias);
    if (found) return found;
    const suggestion = closest(normalise(nameOrAlias), [...this.byKey.keys()]);
    const hint = suggestion !== undefined ? `; did you mean "${this.byKey.get(suggestion)!.provider}"?` : '';
    throw new FactoryError(
      'not_found',
      `unknown provider "${nameOrAlias}"${hint} (see: connector-factory providers list)`,
    );
  }

  /** Names and aliases, for matching words in a description. */
  keys(): readonly string[] {
    return [...this.byKey.keys()];
  }
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[\s_.-]+/g, '');
}

/** Where the registry lives: $CONNECTOR_FACTORY_PROVIDERS, else the `providers/` folder of this install. */
export function defaultProvidersDirectory(): string {
  const fromEnv = process.env.CONNECTOR_FACTORY_PROVIDERS;
  if (fromEnv) return resolve(fromEnv);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'providers');
    if (existsSync(join(candidate, 'postgres.yaml'))) return candidate;
    dir = dirname(dir);
  }
  throw new FactoryError(
    'registry_invalid',
    'cannot find the providers/ folder; set CONNECTOR_FACTORY_PROVIDERS to its path',
  );
}

/**
 * Loads and validates every `*.yaml` in a folder. A broken file is a `registry_invalid` error whose
 * details name the file, line and field of each problem.
 */
export async function loadProviderRegistry(directory = defaultProvidersDirectory()): Promise<ProviderRegistry> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (error) {
    throw new FactoryError(
      'registry_invalid',
      `cannot read provider registry ${directory}: ${(error as Error).message}`,
      [],
      { cause: error },
    );
  }
  const providers: ProviderDefinition[] = [];
  const problems: string[] = [];
  const owners = new Map<string, { provider: string; file: string }>();
  for (const name of names) {
    const file = join(directory, name);
    const parsed = parseStructuredText(await readFile(file, 'utf8'), 'yaml');
    if (!parsed.ok) {
      const where = parsed.position ? `:${parsed.position.line}:${parsed.position.column}` : '';
      problems.push(`${file}${where}: invalid YAML: ${parsed.message}`);
      continue;
    }
    const at = (path: JsonPath) => {
      const pos = parsed.positionOf(path);
      return pos ? `${file}:${pos.line}:${pos.column}` : file;
    };
    const result = ProviderDefinition.safeParse(parsed.value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
        problems.push(`${at(path)}: ${formatPath(path)}: ${issue.message}${keys}`);
      }
      continue;
    }
    const provider = result.data;
    const stem = basename(name).replace(/\.ya?ml$/, '');
    if (provider.provider !== stem) {
      problems.push(`${at(['provider'])}: provider: "${provider.provider}" does not match the file name ${name}`);
    }
    provider.aliases.forEach((alias, index) => {
      const key = normalise(alias);
      const owner = owners.get(key);
      if (owner !== undefined) {
        problems.push(
          `${at(['aliases', index])}: aliases[${index}]: "${alias}" already names provider ${owner.provider} (${owner.file})`,
        );
      }
    });
    if (owners.has(normalise(provider.provider))) {
      const owner = owners.get(normalise(provider.provider))!;
      problems.push(`${at(['provider'])}: provider: "${provider.provider}" is already defined by ${owner.file}`);
    }
    for (const key of [provider.provider, ...provider.aliases])
      owners.set(normalise(key), { provider: provider.provider, file: name });
    providers.push(provider);
  }
  if (problems.length > 0) {
    throw new FactoryError(
      'registry_invalid',
      `provider registry ${directory} has ${problems.length} problem(s)`,
      problems,
    );
  }
  if (providers.length === 0)
    throw new FactoryError('registry_invalid', `provider registry ${directory} has no *.yaml files`);
  return new ProviderRegistry(directory, providers);
}

import { type Command } from 'commander';
import { FactoryError, SECRETS_KEY_VARIABLE, SecretStore, checkSecretName } from '@connector-factory/factory';
import { audited, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

/** All of stdin, without the one line break a shell or `echo` adds at the end. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks for a value on the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  const input = process.stdin;
  process.stderr.write(question);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      const onData = (text: string) => {
        for (const char of text) {
          if (char === '\r' || char === '\n' || char === '\u0004') {
            input.off('data', onData);
            resolve(value);
            return;
          }
          if (char === '\u0003') {
            input.off('data', onData);
            reject(new FactoryError('usage', 'interrupted: nothing was stored'));
            return;
          }
          if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
          else value += char;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}

const storeFor = () => new SecretStore();

/** `connector-factory secrets set|list|rm`: the local, encrypted store of the values manifests reference. */
export function registerSecrets(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const secrets = program
    .command('secrets')
    .description('the local secret store: values manifests reference as ${NAME}, encrypted at rest')
    .addHelpText(
      'after',
      '\nThe store is <factory home>/secrets.enc (CONNECTOR_FACTORY_HOME, default ./.connector-factory), encrypted\n' +
        `with AES-256-GCM. The key is ${SECRETS_KEY_VARIABLE} (64 hex digits), else the key file\n` +
        'secrets.key in $CONNECTOR_FACTORY_CONFIG (else $XDG_CONFIG_HOME/connector-factory, else\n' +
        '~/.config/connector-factory), created on first use, mode 0600.\n' +
        'A variable set in the environment wins over the store. Values are never printed.\n' +
        '\nExamples:\n  connector-factory secrets set POSTGRES_SHOP_CONNECTION_STRING\n' +
        '  printf %s "$URL" | connector-factory secrets set POSTGRES_SHOP_CONNECTION_STRING --value-stdin\n' +
        '  connector-factory secrets list\n  connector-factory secrets rm POSTGRES_SHOP_CONNECTION_STRING',
    );

  withFactoryOptions(
    secrets
      .command('set')
      .description('store a value (asked on the terminal, or read from stdin with --value-stdin)')
      .argument('<name>', 'the variable name manifests reference, e.g. POSTGRES_SHOP_CONNECTION_STRING')
      .option('--value-stdin', 'read the value from stdin (one trailing line break is dropped)')
      .option('--json', 'print {name, setAt, replaced}')
      .addHelpText(
        'after',
        '\nThe value is never an argument (it would land in the shell history) and is never printed.\n' +
          'Exit status: 0 stored, 1 bad key or store, 2 usage (bad name, empty value, no terminal without --value-stdin),\n' +
          '4 forbidden by the CARS policy. Each change is an audit receipt naming the variable, never its value.',
      ),
  ).action(async (name: string, options: FactoryOptions & { valueStdin?: boolean; json?: boolean }) => {
    checkSecretName(name);
    let value: string;
    if (options.valueStdin) value = await readStdin();
    else if (process.stdin.isTTY === true) value = await promptHidden(`value of ${name} (not shown): `);
    else {
      throw new FactoryError(
        'usage',
        `secrets set asks for the value on a terminal: without one, pipe it in with --value-stdin`,
      );
    }
    let stored: { replaced: boolean; setAt: string } | undefined;
    await audited(options, { action: 'set_secret', agent: 'cli', what: 'storing a secret' }, async () => {
      stored = await storeFor().set(name, value);
      return { resource: name, inputs: {}, outputs: {}, details: { replaced: stored.replaced } };
    });
    const { replaced, setAt } = stored!;
    if (options.json) printJson(io, { name, setAt, replaced });
    else io.out(`${replaced ? 'replaced' : 'stored'} ${name}; manifests reference it as \${${name}}`);
    setExit(EXIT.ok);
  });

  secrets
    .command('list')
    .description('the names in the store and when each was set (never the values)')
    .option('--json', 'print [{name, setAt}]')
    .action(async (options: { json?: boolean }) => {
      const store = storeFor();
      const entries = await store.list();
      if (options.json) printJson(io, entries);
      else if (entries.length === 0) io.out(`no secrets in ${store.file}`);
      else io.out(table([['NAME', 'SET AT'], ...entries.map((entry) => [entry.name, entry.setAt])]));
      setExit(EXIT.ok);
    });

  withFactoryOptions(
    secrets
      .command('rm')
      .description('remove a value from the store')
      .argument('<name>', 'the variable name')
      .option('--json', 'print {name, removed}')
      .addHelpText(
        'after',
        '\nExit status: 0 removed, 1 not in the store (or bad key or store), 2 usage, 4 forbidden by the CARS policy.',
      ),
  ).action(async (name: string, options: FactoryOptions & { json?: boolean }) => {
    checkSecretName(name);
    let removed = false;
    await audited(options, { action: 'remove_secret', agent: 'cli', what: 'removing a secret' }, async () => {
      removed = await storeFor().remove(name);
      if (!removed) {
        throw new FactoryError(
          'not_found',
          `${name} is not in the secret store; see \`connector-factory secrets list\``,
        );
      }
      return { resource: name, inputs: {}, outputs: {} };
    });
    if (options.json) printJson(io, { name, removed });
    else io.out(`removed ${name}`);
    setExit(EXIT.ok);
  });
}

import { InvalidArgumentError, type Command } from 'commander';
import {
  FactoryError,
  generateAuditKey,
  loadPublicKey,
  parseAuditAnchor,
  type AuditAnchor,
  type AuditReceipt,
  type AuditVerification,
} from '@connector-factory/factory';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

function parseLimit(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError(`"${text}" is not a positive number`);
  return Number(text);
}

function parseHead(text: string): AuditAnchor {
  const anchor = parseAuditAnchor(text);
  if (!anchor)
    throw new InvalidArgumentError(`"${text}" is not a receipt hash (64 hex digits, as \`audit head\` prints it)`);
  return anchor;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function row(receipt: AuditReceipt): string[] {
  return [
    String(receipt.seq),
    receipt.time,
    receipt.action,
    receipt.agent,
    receipt.actor,
    receipt.resource,
    receipt.riskLevel,
    receipt.result,
    receipt.signature !== null ? 'yes' : 'no',
  ];
}

/** `audit log intact: 12 receipts, signed (…)`: what a passing verification covered. */
function summary(result: AuditVerification): string {
  let signing = result.signaturesChecked
    ? `unsigned: recorded before signing began (the key ${result.keyIds.join(', ')} signs what comes next)`
    : 'unsigned';
  if (result.signed && result.signaturesChecked) {
    signing = `signed, signatures checked against ${result.keyIds.join(', ')}`;
    if (result.signedFrom !== null) {
      signing += `; receipts before ${result.signedFrom} predate the signing key and are unsigned`;
    }
  } else if (result.signed) {
    signing = 'signed, signatures not checked (give --public-key or set CONNECTOR_FACTORY_AUDIT_KEY)';
  }
  const anchor = result.anchor ? `; nothing was rewritten up to the head you kept (receipt ${result.anchor.seq})` : '';
  return `audit log intact: ${result.receipts} receipts, ${signing}${anchor}`;
}

/** `connector-factory audit list|verify|head|keygen`: the evidence log of every agent action. */
export function registerAudit(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const audit = program
    .command('audit')
    .description('read and verify the audit log (hash-chained receipts, each signed with an ed25519 key)')
    .addHelpText(
      'after',
      '\nEvery receipt is signed. The key is CONNECTOR_FACTORY_AUDIT_KEY (a private key `audit keygen` writes)\n' +
        'when set, else audit-key.pem in the config folder ($CONNECTOR_FACTORY_CONFIG, else\n' +
        '$XDG_CONFIG_HOME/connector-factory, else ~/.config/connector-factory), created on first use (mode\n' +
        '0600) with its public key beside it (audit-key.pem.pub). It never goes into the state store.\n' +
        'Keep `audit head` somewhere else: `audit verify --head <hash>` then proves nothing was rewritten.\n' +
        '\nExamples:\n  connector-factory audit list --limit 20\n  connector-factory audit verify --public-key audit-key.pem.pub\n' +
        '  connector-factory audit head --json\n' +
        '  connector-factory audit keygen --out ~/.config/connector-factory/audit-key.pem',
    );

  withFactoryOptions(
    audit
      .command('list', { isDefault: true })
      .description('the latest receipts, oldest first')
      .option('--limit <n>', 'how many of the latest (default 50)', parseLimit, 50)
      .option('--json', 'print the receipts as JSON'),
  )
    .addHelpText('after', '\nExample:\n  connector-factory audit list --limit 10 --json')
    .action(async (options: FactoryOptions & { limit: number; json?: boolean }) => {
      await withFactory(options, async (context) => {
        const receipts = (await context.store.audit.all()).slice(-options.limit);
        if (options.json) printJson(io, receipts);
        else if (receipts.length === 0) io.out('the audit log is empty');
        else {
          io.out(
            table([
              ['SEQ', 'TIME', 'ACTION', 'AGENT', 'ACTOR', 'RESOURCE', 'RISK', 'RESULT', 'SIGNED'],
              ...receipts.map(row),
            ]),
          );
        }
        setExit(EXIT.ok);
      });
    });

  withFactoryOptions(
    audit
      .command('verify')
      .description('check every hash, link and signature, and name each receipt that was edited, deleted or moved')
      .option(
        '--public-key <file>',
        'PEM ed25519 public key to check signatures with, repeatable (default: the signing key, see `audit --help`)',
        collect,
      )
      .option(
        '--head <hash>',
        'a head hash `audit head` printed earlier: fail unless that receipt is still in the log at its place',
        parseHead,
      )
      .option('--json', 'print the verification as JSON'),
  )
    .addHelpText(
      'after',
      '\nExit status: 0 intact, 1 broken (each broken receipt is named on stderr).\n' +
        '\nExamples:\n  connector-factory audit verify --public-key audit-key.pem.pub\n' +
        '  connector-factory audit verify --head 3f1c…e9a0',
    )
    .action(async (options: FactoryOptions & { publicKey?: string[]; head?: AuditAnchor; json?: boolean }) => {
      const keys =
        options.publicKey !== undefined
          ? await Promise.all(options.publicKey.map((file) => loadPublicKey(file)))
          : undefined;
      await withFactory(options, async (context) => {
        const result = await context.audit.verify(keys, options.head ? { head: options.head } : {});
        if (options.json) printJson(io, result);
        else if (result.ok) io.out(summary(result));
        else {
          for (const problem of result.problems) io.err(`broken: ${problem.message}`);
          io.err(
            `audit log broken: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${result.receipts} receipts`,
          );
        }
        setExit(result.ok ? EXIT.ok : EXIT.invalidInput);
      });
    });

  withFactoryOptions(
    audit
      .command('head')
      .description('the newest receipt: its hash and signature, to keep somewhere the state store cannot reach')
      .option('--json', 'print {seq, time, hash, signature, keyId} as JSON'),
  )
    .addHelpText(
      'after',
      '\nAnyone who can write the state store but has no signing key can only forge unsigned receipts; one\n' +
        'who also rewrites the signatures away is caught by `audit verify --head <hash>` with a head kept elsewhere.\n' +
        '\nExample:\n  connector-factory audit head --json > /mnt/elsewhere/audit-head.json',
    )
    .action(async (options: FactoryOptions & { json?: boolean }) => {
      await withFactory(options, async (context) => {
        const head = await context.store.audit.head();
        if (head === undefined) {
          if (options.json) printJson(io, null);
          else io.out('the audit log is empty');
          setExit(EXIT.ok);
          return;
        }
        const receipt = (await context.store.audit.all()).find((r) => r.seq === head.seq && r.hash === head.hash);
        if (!receipt) {
          throw new FactoryError(
            'invalid_input',
            `the recorded head (receipt ${head.seq}) is not in the log; \`connector-factory audit verify\` says what happened`,
          );
        }
        const { seq, time, hash, signature, keyId } = receipt;
        if (options.json) printJson(io, { seq, time, hash, signature, keyId });
        else {
          io.out(`receipt    ${seq} (${time})`);
          io.out(`hash       ${hash}`);
          io.out(`signature  ${signature ?? 'none (recorded before signing began)'}`);
          if (keyId !== null) io.out(`key        ${keyId}`);
          io.out(
            `keep the hash elsewhere; later, \`connector-factory audit verify --head ${seq}:${hash}\` proves nothing up to it was rewritten`,
          );
        }
        setExit(EXIT.ok);
      });
    });

  audit
    .command('keygen')
    .description('create an ed25519 key pair to sign the audit log with')
    .requiredOption('--out <file>', 'where to write the private key (mode 0600; the public key goes to <file>.pub)')
    .option('--json', 'print {privateKeyFile, publicKeyFile, keyId} as JSON')
    .addHelpText(
      'after',
      '\nThe private key file is never overwritten. Keep it out of the state store and out of version control.\n' +
        'Without it, receipts are signed with the default key (see `audit --help`); a shared state store needs\n' +
        'one key for all who write it, or `audit verify --public-key` given once for each writer.\n' +
        '\nExample:\n  connector-factory audit keygen --out ~/.config/connector-factory/audit-key.pem',
    )
    .action(async (options: { out: string; json?: boolean }) => {
      const key = await generateAuditKey(options.out);
      if (options.json) printJson(io, key);
      else {
        io.out(`wrote the private key ${key.privateKeyFile} (mode 0600) and the public key ${key.publicKeyFile}`);
        io.out(`key id ${key.keyId}`);
        io.out(`sign receipts with: export CONNECTOR_FACTORY_AUDIT_KEY=${key.privateKeyFile}`);
        io.out(`verify anywhere with: connector-factory audit verify --public-key ${key.publicKeyFile}`);
      }
      setExit(EXIT.ok);
    });
}

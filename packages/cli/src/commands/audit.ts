import { InvalidArgumentError, type Command } from 'commander';
import { generateAuditKey, loadPublicKey, type AuditReceipt, type AuditVerification } from '@connector-factory/factory';
import { withFactory, withFactoryOptions, type FactoryOptions } from '../factory-options.js';
import { EXIT, printJson, table, type ExitCode, type Io } from '../io.js';

function parseLimit(text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new InvalidArgumentError(`"${text}" is not a positive number`);
  return Number(text);
}

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
  let signing = 'unsigned';
  if (result.signed && result.signaturesChecked) {
    signing = `signed, signatures checked against ${result.keyIds.join(', ')}`;
    if (result.signedFrom !== null) {
      signing += `; receipts before ${result.signedFrom} predate the signing key and are unsigned`;
    }
  } else if (result.signed) {
    signing = 'signed, signatures not checked (give --public-key or set CONNECTOR_FACTORY_AUDIT_KEY)';
  }
  return `audit log intact: ${result.receipts} receipts, ${signing}`;
}

/** `connector-factory audit list|verify|keygen`: the evidence log of every agent action. */
export function registerAudit(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  const audit = program
    .command('audit')
    .description('read and verify the audit log (hash-chained receipts, ed25519-signed when a key is set)')
    .addHelpText(
      'after',
      '\nSet CONNECTOR_FACTORY_AUDIT_KEY to the private key `audit keygen` writes, and every receipt is signed.\n' +
        '\nExamples:\n  connector-factory audit list --limit 20\n  connector-factory audit verify --public-key audit-key.pem.pub\n' +
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
        'PEM ed25519 public key to check signatures with (default: the key of CONNECTOR_FACTORY_AUDIT_KEY)',
      )
      .option('--json', 'print the verification as JSON'),
  )
    .addHelpText(
      'after',
      '\nExit status: 0 intact, 1 broken (each broken receipt is named on stderr).\n' +
        '\nExample:\n  connector-factory audit verify --public-key audit-key.pem.pub',
    )
    .action(async (options: FactoryOptions & { publicKey?: string; json?: boolean }) => {
      const keys = options.publicKey !== undefined ? [await loadPublicKey(options.publicKey)] : undefined;
      await withFactory(options, async (context) => {
        const result = await context.audit.verify(keys);
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

  audit
    .command('keygen')
    .description('create an ed25519 key pair to sign the audit log with')
    .requiredOption('--out <file>', 'where to write the private key (mode 0600; the public key goes to <file>.pub)')
    .option('--json', 'print {privateKeyFile, publicKeyFile, keyId} as JSON')
    .addHelpText(
      'after',
      '\nThe private key file is never overwritten. Keep it out of the state store and out of version control.\n' +
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

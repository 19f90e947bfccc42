import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { decryptValues, isRuntimeError } from '@connector-factory/factory';
import { EXIT, printJson, type ExitCode, type Io } from '../io.js';

/** `connector-factory decrypt`: turns `enc:v1:…` values of encrypted PII columns back into text. */
export function registerDecrypt(program: Command, io: Io, setExit: (code: ExitCode) => void): void {
  program
    .command('decrypt')
    .description('decrypt PII values a connector encrypted (governance.piiHandling: encrypt)')
    .argument('[values...]', 'enc:v1:… values; without any, one value per line on standard input')
    .option('--json', 'print the values as a JSON array')
    .addHelpText(
      'after',
      '\nThe key comes from CF_PII_ENCRYPTION_KEY (and CF_PII_ENCRYPTION_KEY_ID): only holders of the key can decrypt.\n' +
        'A wrong key or a tampered value fails with exit status 1.\n' +
        '\nExample:\n  connector-factory decrypt enc:v1:AbC…',
    )
    .action(async (values: string[], options: { json?: boolean }) => {
      const input = values.length > 0 ? values : await readLines();
      try {
        const plain = await decryptValues(input);
        if (options.json) printJson(io, plain);
        else for (const value of plain) io.out(value);
        setExit(EXIT.ok);
      } catch (error) {
        if (isRuntimeError(error)) {
          io.err(`error: ${error.message}`);
          setExit(EXIT.invalidInput);
          return;
        }
        throw error;
      }
    });
}

async function readLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) if (line.trim() !== '') lines.push(line.trim());
  return lines;
}

import { FactoryError } from '../../../errors.js';

/**
 * A Dockerfile as a list of instructions. Exec-form arguments and ENV/LABEL values are JSON-quoted, so
 * no value can start a new instruction or change the command.
 */
export type DockerArgs =
  | { readonly exec: readonly string[] }
  | { readonly pairs: readonly (readonly [string, string])[] }
  | { readonly words: readonly string[] }
  /** Shell form, for commands the generator wrote itself (never a manifest's text). */
  | { readonly shell: string };

export interface DockerInstruction {
  readonly comment?: readonly string[];
  readonly keyword: 'FROM' | 'WORKDIR' | 'COPY' | 'RUN' | 'ENV' | 'LABEL' | 'USER' | 'EXPOSE' | 'HEALTHCHECK' | 'CMD';
  /** Options such as `--from=build` or `--interval=30s`. */
  readonly flags?: readonly string[];
  readonly args: DockerArgs;
  /** For HEALTHCHECK: the command that follows the flags. */
  readonly then?: { readonly keyword: 'CMD'; readonly exec: readonly string[] };
}

const WORD = /^[A-Za-z0-9_./:@=*-]+$/;

function render(args: DockerArgs): string {
  if ('exec' in args) return `[${args.exec.map((arg) => JSON.stringify(arg)).join(', ')}]`;
  if ('pairs' in args) {
    return args.pairs
      .map(([key, value]) => {
        if (!WORD.test(key)) throw new FactoryError('internal', `not a Dockerfile key: ${key}`);
        // Double-quoted, with `$` escaped so Docker expands no variable inside.
        return `${key}=${JSON.stringify(value).replace(/\$/g, '\\$')}`;
      })
      .join(' ');
  }
  if ('shell' in args) return args.shell;
  for (const word of args.words)
    if (!WORD.test(word)) throw new FactoryError('internal', `not a plain Dockerfile word: ${word}`);
  return args.words.join(' ');
}

/** Renders the instructions, a blank line before each commented group. */
export function dockerfile(instructions: readonly DockerInstruction[]): string {
  const lines: string[] = [];
  for (const instruction of instructions) {
    if (instruction.comment) {
      if (lines.length > 0) lines.push('');
      for (const text of instruction.comment) lines.push(`# ${text.replace(/[\r\n\u2028\u2029]+/g, ' ')}`);
    }
    const then = instruction.then ? [instruction.then.keyword, render({ exec: instruction.then.exec })] : [];
    const parts = [instruction.keyword, ...(instruction.flags ?? []), render(instruction.args), ...then];
    lines.push(parts.filter((part) => part !== '').join(' '));
  }
  return `${lines.join('\n')}\n`;
}

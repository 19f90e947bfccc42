/**
 * Exit statuses of every command. `source`: the source database refused (down, credentials, permission).
 * `environment`: this machine cannot run it (the demo's embedded database does not start).
 */
export const EXIT = {
  ok: 0,
  invalidInput: 1,
  usage: 2,
  internal: 3,
  forbidden: 4,
  pending: 5,
  source: 6,
  environment: 7,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Where a command writes; tests pass their own to run the CLI in-process. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/** Pretty JSON, one document per command run, for `--json`. */
export function printJson(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

/** Fixed-width columns for human tables. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

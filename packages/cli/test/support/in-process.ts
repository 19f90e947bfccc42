import { main } from '../../src/main.js';

/** `connector-factory …args` in-process: main() with an Io that collects what the command prints, a line each. */
export async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => (stdout += text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => (stderr += text.endsWith('\n') ? text : `${text}\n`),
  });
  return { code, stdout, stderr };
}

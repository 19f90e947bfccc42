import { redactSecrets } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';

/**
 * Expands `${NAME}` references from the environment. A missing variable is a config error that names
 * the variable, never its neighbours' values.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new RuntimeError('config', `environment variable ${name} is not set (the manifest references \${${name}})`);
    }
    return value;
  });
}

/** A connection URL with its password (and credential parameters) replaced by `***`: the IR's redactor. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}

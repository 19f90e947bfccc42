import { resolve } from 'node:path';

/**
 * The factory's own folder (state database, policy, audit key): `CONNECTOR_FACTORY_HOME`, else
 * `.connector-factory` in the current folder. Returned as an absolute path; not created here.
 */
export function factoryHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['CONNECTOR_FACTORY_HOME'];
  return resolve(configured !== undefined && configured !== '' ? configured : '.connector-factory');
}

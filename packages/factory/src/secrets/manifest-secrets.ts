import type { ConnectorManifest } from '@connector-factory/ir';
import { requiredEnv } from '../agents/codegen/common/environment.js';
import { withStoredSecrets } from './secret-store.js';

/**
 * `env` with the variables `manifest` makes a connector read filled from the secret store of `home`
 * where `env` lacks them (the environment wins). What neither holds stays missing, for the runtime to name.
 */
export function withManifestSecrets(
  manifest: ConnectorManifest,
  env: NodeJS.ProcessEnv,
  home: string,
): Promise<NodeJS.ProcessEnv> {
  return withStoredSecrets(env, requiredEnv(manifest), { home });
}

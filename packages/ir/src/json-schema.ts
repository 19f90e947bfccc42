import { z } from 'zod';
import { ConnectorManifest } from './manifest.js';
import { ProviderDefinition } from './provider.js';

/** JSON Schema (draft 2020-12) of the manifest, for editors; cross-field rules are only in validateManifest. */
export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ConnectorManifest, { io: 'input' }),
    $id: 'urn:connector-factory:schema:connector-manifest',
    title: 'Connector Factory manifest',
  };
}

/** JSON Schema of a provider registry file (providers/*.yaml). */
export function providerJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ProviderDefinition, { io: 'input' }),
    $id: 'urn:connector-factory:schema:provider',
    title: 'Connector Factory provider',
  };
}

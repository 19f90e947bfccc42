import type { ConnectorManifest } from '@connector-factory/ir';
import { inlineCode } from '../../syntax/markdown.js';
import type { CodegenContext, SourceProfile, Template, TemplateOutput } from '../../template.js';
import { clientModule, extractorModule } from './jdbc-modules.js';
import { jdbcProvider } from './jdbc-providers.js';
import { clientTest, extractorTest, integrationTest } from './jdbc-tests.js';

function readingNotes(manifest: ConnectorManifest): string[] {
  const { schema } = manifest;
  const entities = schema.entities.map((e) => inlineCode(e.name)).join(', ');
  const common = `Each entity is a table or view (${entities}); a name may be schema-qualified, and is taken verbatim.`;
  switch (schema.updateStrategy) {
    case 'full_refresh':
      return [`${common} Every run reads the whole table (full refresh).`];
    case 'incremental':
      return [
        `${common} Runs read incrementally: the rows whose ${inlineCode(schema.incrementalKey ?? '')} is past the last checkpoint, in key order.`,
      ];
    case 'cdc':
      return [
        `${common} Changes are captured from a logical replication slot and a publication named after the connector: an initial snapshot, then every insert, update and delete. The database needs \`wal_level=logical\` and a user with the REPLICATION attribute; a \`--once\` run stops when it has caught up.`,
      ];
  }
}

/** SQL databases the runtime reads (postgres, mysql/mariadb): full refresh, incremental or CDC. */
export const jdbcTemplate: Template = {
  kind: 'jdbc',
  profile(manifest): SourceProfile {
    const provider = jdbcProvider(manifest.source.provider);
    return {
      label: `${provider.label} (jdbc)`,
      egressPorts: [provider.port],
      readme: readingNotes(manifest),
    };
  },
  render(context: CodegenContext): TemplateOutput {
    return {
      modules: new Map([
        ['src/client.ts', clientModule(context)],
        ['src/extractor.ts', extractorModule(context)],
        ['tests/client.test.ts', clientTest(context)],
        ['tests/extractor.test.ts', extractorTest(context)],
        ['tests/integration.test.ts', integrationTest(context)],
      ]),
      devDependencies: {},
    };
  },
};

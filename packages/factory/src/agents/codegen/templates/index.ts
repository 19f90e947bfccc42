import type { Template, TemplateKind } from '../template.js';
import { fileTemplate } from './file/file-template.js';
import { graphqlTemplate } from './graphql/graphql-template.js';
import { jdbcTemplate } from './jdbc/jdbc-template.js';
import { kafkaTemplate } from './kafka/kafka-template.js';
import { restApiTemplate } from './rest-api/rest-api-template.js';
import { webhookTemplate } from './webhook/webhook-template.js';

/** Every template, by kind. */
export const TEMPLATES: Readonly<Record<TemplateKind, Template>> = {
  'rest-api': restApiTemplate,
  graphql: graphqlTemplate,
  jdbc: jdbcTemplate,
  file: fileTemplate,
  kafka: kafkaTemplate,
  webhook: webhookTemplate,
};

export { AVAILABLE_TEMPLATES } from './unavailable.js';

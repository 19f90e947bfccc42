import { z } from 'zod';
import { EnvVarName, RateLimit } from './manifest.js';
import { AUTH_METHODS, SourceType, UpdateStrategy } from './enums.js';

/** Auth methods a provider may offer: the IR's, plus SASL/SSL for brokers (mapped to basic in a manifest). */
export const PROVIDER_AUTH_METHODS = [...AUTH_METHODS, 'sasl_ssl'] as const;
export const ProviderAuthMethod = z.enum(PROVIDER_AUTH_METHODS);

/** Codegen template families of the spec. */
export const TEMPLATE_KINDS = ['rest-api', 'graphql', 'jdbc', 'file', 'kafka', 'webhook'] as const;
export const TemplateKind = z.enum(TEMPLATE_KINDS);

const httpsUrl = z.string().regex(/^https:\/\/\S+$/, 'an https:// URL');

export const ProviderAuth = z.strictObject({
  defaultMethod: ProviderAuthMethod,
  methods: z.array(ProviderAuthMethod).optional().describe('Other methods the provider accepts.'),
  oauth2: z
    .strictObject({
      authorizeUrl: httpsUrl.optional(),
      tokenUrl: z.string().min(1),
      scopes: z.array(z.string().min(1)),
      clientIdEnvVar: EnvVarName.optional(),
      clientSecretEnvVar: EnvVarName.optional(),
    })
    .optional(),
  api_key: z
    .strictObject({
      headerName: z.string().min(1),
      apiKeyEnvVar: EnvVarName,
      prefix: z.string().optional().describe('Text before the key in the header, e.g. "Bearer ".'),
    })
    .optional(),
  bearer: z.strictObject({ tokenEnvVar: EnvVarName }).optional(),
  basic: z.strictObject({ usernameEnvVar: EnvVarName, passwordEnvVar: EnvVarName }).optional(),
  iam: z.strictObject({ roleArnEnvVar: EnvVarName.optional() }).optional(),
  sasl_ssl: z
    .strictObject({
      mechanism: z.enum(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
      usernameEnvVar: EnvVarName,
      passwordEnvVar: EnvVarName,
    })
    .optional(),
});

export const ProviderEntities = z.strictObject({
  common: z.array(z.string().min(1)).min(1),
  incrementalField: z
    .string()
    .min(1)
    .optional()
    .describe('The cursor field most entities share, e.g. updated_at or SystemModstamp.'),
  incrementalFields: z
    .record(z.string(), z.string().min(1))
    .optional()
    .describe('Per-entity cursor fields where they differ from incrementalField.'),
});

export const ProviderPagination = z.strictObject({
  style: z.enum(['cursor', 'offset', 'page', 'link_header', 'next_url', 'none']),
  param: z.string().min(1).optional(),
  pageSizeParam: z.string().min(1).optional(),
  maxPageSize: z.number().int().positive().optional(),
});

/** One provider of the registry (`providers/<name>.yaml`). */
export const ProviderDefinition = z.strictObject({
  provider: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a lower-case name such as postgres'),
  displayName: z.string().min(1),
  description: z.string().min(1).optional(),
  type: SourceType,
  template: TemplateKind,
  aliases: z.array(z.string().min(1)),
  baseUrl: z.string().min(1).optional(),
  connectionString: z.string().min(1).optional(),
  auth: ProviderAuth,
  rateLimit: RateLimit.extend({ notes: z.string().optional() }).optional(),
  pagination: ProviderPagination.optional(),
  entities: ProviderEntities,
  strategies: z.array(UpdateStrategy).min(1),
  features: z.array(z.string().min(1)).optional(),
  documentation: httpsUrl,
});

export type ProviderAuthMethod = z.infer<typeof ProviderAuthMethod>;
export type TemplateKind = z.infer<typeof TemplateKind>;
export type ProviderDefinition = z.infer<typeof ProviderDefinition>;

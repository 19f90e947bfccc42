import type { Auth, ProviderDefinition } from '@connector-factory/ir';
import { arr, isObject, obj, str, type Json } from './json-node.js';
import type { OpenApiDocument } from './openapi-document.js';

/** The auth a document asks for, and the words that explain it. */
export interface DocumentAuth {
  readonly auth: Auth;
  readonly words: string;
}

/**
 * Auth from the security scheme the document applies (or its first one); env-var names come from the
 * generic REST provider's registry entry when given. No scheme is auth none.
 */
export function documentAuth(
  document: OpenApiDocument,
  baseUrl: string | undefined,
  rest: ProviderDefinition | undefined,
): DocumentAuth {
  const { root: doc, swagger2, file, warnings, resolve } = document;
  const schemes = obj(swagger2 ? doc.securityDefinitions : obj(doc.components).securitySchemes);
  const applied = Object.keys(obj(arr(doc.security)[0])).find((name) => schemes[name] !== undefined);
  const schemeName = applied ?? Object.keys(schemes)[0];
  let auth: Auth | undefined;
  let authWords = 'no security scheme: auth none';
  if (schemeName === undefined) {
    auth = { method: 'none', config: {} };
  } else {
    const scheme = obj(resolve(schemes[schemeName]));
    const result = authFromScheme(scheme, schemeName, swagger2, baseUrl, rest, warnings, file);
    auth = result;
    authWords = `security scheme "${schemeName}": auth ${result.method}`;
  }
  return { auth, words: authWords };
}

function authFromScheme(
  scheme: Json,
  name: string,
  swagger2: boolean,
  baseUrl: string | undefined,
  rest: ProviderDefinition | undefined,
  warnings: string[],
  file: string,
): Auth {
  const a = rest?.auth;
  const type = str(scheme.type);
  const httpScheme = str(scheme.scheme)?.toLowerCase();
  if (type === 'apiKey') {
    const where = str(scheme.in) ?? 'header';
    const headerName = str(scheme.name) ?? a?.api_key?.headerName ?? 'X-API-Key';
    if (where !== 'header') {
      warnings.push(
        `${file}: security scheme "${name}" sends the key in the ${where} parameter ${headerName}; the connector sends it as a header of that name, check the API accepts that`,
      );
    }
    return { method: 'api_key', config: { headerName, apiKeyEnvVar: a?.api_key?.apiKeyEnvVar ?? 'REST_API_KEY' } };
  }
  if ((type === 'http' && httpScheme === 'basic') || (swagger2 && type === 'basic')) {
    return {
      method: 'basic',
      config: {
        usernameEnvVar: a?.basic?.usernameEnvVar ?? 'REST_API_USERNAME',
        passwordEnvVar: a?.basic?.passwordEnvVar ?? 'REST_API_PASSWORD',
      },
    };
  }
  if (type === 'oauth2') {
    let flow: Json;
    let flowName: string;
    if (swagger2) {
      flowName = str(scheme.flow) ?? 'application';
      flow = scheme;
    } else {
      const flows = obj(scheme.flows);
      flowName =
        ['clientCredentials', 'authorizationCode', 'password'].find((f) => isObject(flows[f])) ?? 'clientCredentials';
      flow = obj(flows[flowName]);
    }
    if (flowName !== 'clientCredentials' && flowName !== 'application') {
      warnings.push(
        `${file}: security scheme "${name}" offers the OAuth2 ${flowName} flow only; an unattended connector needs client credentials (or a stored refresh token)`,
      );
    }
    let tokenUrl = str(flow.tokenUrl);
    if (tokenUrl !== undefined && !/^https?:\/\//i.test(tokenUrl) && baseUrl !== undefined && !/\{/.test(baseUrl)) {
      tokenUrl = new URL(tokenUrl, `${baseUrl}/`).toString();
    }
    if (tokenUrl === undefined) warnings.push(`${file}: security scheme "${name}" names no tokenUrl`);
    return {
      method: 'oauth2',
      config: {
        ...(tokenUrl !== undefined ? { tokenUrl } : {}),
        clientIdEnvVar: a?.oauth2?.clientIdEnvVar ?? 'REST_API_CLIENT_ID',
        clientSecretEnvVar: a?.oauth2?.clientSecretEnvVar ?? 'REST_API_CLIENT_SECRET',
        scopes: Object.keys(obj(flow.scopes)),
      },
    };
  }
  if (!(type === 'http' && httpScheme === 'bearer')) {
    warnings.push(
      `${file}: security scheme "${name}" (${type ?? 'no type'}${httpScheme !== undefined ? ` ${httpScheme}` : ''}) is read as a bearer token`,
    );
  }
  return { method: 'bearer', config: { tokenEnvVar: a?.bearer?.tokenEnvVar ?? 'REST_API_TOKEN' } };
}

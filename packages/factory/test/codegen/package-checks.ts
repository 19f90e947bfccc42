import { readFile } from 'node:fs/promises';
import ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import type { ConnectorManifest } from '@connector-factory/ir';
import type { ConnectorPackage, RuntimeTarballs } from '@connector-factory/factory';

/** Stand-ins for the vendored tarballs: the quick tests never install the package. */
export const FAKE_TARBALLS: RuntimeTarballs = {
  ir: {
    name: '@connector-factory/ir',
    version: '0.1.0',
    fileName: 'connector-factory-ir-0.1.0.tgz',
    bytes: new Uint8Array([1, 2, 3]),
  },
  runtime: {
    name: '@connector-factory/runtime',
    version: '0.1.0',
    fileName: 'connector-factory-runtime-0.1.0.tgz',
    bytes: new Uint8Array([4, 5, 6]),
  },
};

export async function loadJson(path: URL): Promise<ConnectorManifest> {
  return JSON.parse(await readFile(path, 'utf8')) as ConnectorManifest;
}

export function text(pkg: ConnectorPackage, path: string): string {
  const content = pkg.files.get(path);
  if (typeof content !== 'string') throw new Error(`${path} is not a text file of ${pkg.name}`);
  return content;
}

/** Syntax errors of a TypeScript module (the parser's, no type information needed). */
export function syntaxErrors(path: string, source: string): string[] {
  const result = ts.transpileModule(source, {
    fileName: path,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.NodeNext, target: ts.ScriptTarget.ES2022 },
  });
  return (result.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** Every node of a module, depth first. */
export function nodesOf(path: string, source: string): ts.Node[] {
  const file = ts.createSourceFile(path, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const nodes: ts.Node[] = [];
  const visit = (node: ts.Node) => {
    nodes.push(node);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return nodes;
}

/** The string values of `const NAME = [ … ] as const …` in a module. */
export function arrayConstant(path: string, source: string, name: string): string[] {
  for (const node of nodesOf(path, source)) {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name) {
      const values: string[] = [];
      const collect = (n: ts.Node) => {
        if (ts.isArrayLiteralExpression(n)) {
          for (const element of n.elements) if (ts.isStringLiteral(element)) values.push(element.text);
          return;
        }
        ts.forEachChild(n, collect);
      };
      if (node.initializer) collect(node.initializer);
      return values;
    }
  }
  throw new Error(`${path} declares no ${name}`);
}

/** The property names of `interface NAME` in a module, as the compiler reads them. */
export function interfaceProperties(path: string, source: string, name: string): string[] {
  for (const node of nodesOf(path, source)) {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) {
      return node.members.map((member) => {
        const key = member.name;
        if (key === undefined) throw new Error('a member without a name');
        if (ts.isIdentifier(key) || ts.isStringLiteral(key)) return key.text;
        throw new Error(`unexpected property name kind ${ts.SyntaxKind[key.kind]}`);
      });
    }
  }
  throw new Error(`${path} declares no interface ${name}`);
}

const MODELS: Record<string, (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': (d) => new Deployment(d),
  'batch/v1/CronJob': (d) => new CronJob(d),
  'networking.k8s.io/v1/NetworkPolicy': (d) => new NetworkPolicy(d),
  'v1/ConfigMap': (d) => new ConfigMap(d),
  'v1/Service': (d) => new Service(d),
};

// Kubernetes objects are schemaless JSON here: the tests look into them freely.
export type K8s = any;

/** Parses every k8s/*.yaml of a package and validates each object against the Kubernetes OpenAPI schemas. */
export function kubernetesObjects(pkg: ConnectorPackage): Map<string, K8s> {
  const objects = new Map<string, K8s>();
  for (const [path, content] of pkg.files) {
    if (!path.startsWith('k8s/')) continue;
    for (const document of parseAllDocuments(content as string)) {
      if (document.errors.length > 0) throw new Error(`${path}: ${document.errors[0]!.message}`);
      const object = document.toJS() as K8s;
      const model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (model === undefined) throw new Error(`${path}: no schema for ${object.apiVersion} ${object.kind}`);
      model(object as never).validate();
      objects.set(object.kind, object);
    }
  }
  return objects;
}

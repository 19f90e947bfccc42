import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate as lintDockerfile } from 'dockerfile-utils';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorManifest, Source } from '@connector-factory/ir';
import { connectorNodeFlags } from '@connector-factory/runtime/node-flags';
import {
  FactoryError,
  generate,
  isPackagePath,
  workloadFor,
  writePackage,
  type ConnectorPackage,
} from '@connector-factory/factory';
import {
  FAKE_TARBALLS,
  arrayConstant,
  interfaceProperties,
  kubernetesObjects,
  loadJson,
  nodesOf,
  syntaxErrors,
  text,
  type K8s,
} from './package-checks.js';

const repo = new URL('../../../../', import.meta.url);
const fixtures = new URL('./fixtures/', import.meta.url);
const MANIFESTS = {
  'postgres-orders-cdc': new URL('examples/postgres-orders-cdc.json', repo),
  'mariadb-customers': new URL('mariadb-customers.json', fixtures),
  'hostile-names': new URL('hostile-names.json', fixtures),
} as const;
type Name = keyof typeof MANIFESTS;

const packages = new Map<Name, ConnectorPackage>();
const manifests = new Map<Name, ConnectorManifest>();
const pkg = (name: Name) => packages.get(name)!;
const manifestOf = (name: Name) => manifests.get(name)!;

beforeAll(async () => {
  for (const [name, url] of Object.entries(MANIFESTS) as [Name, URL][]) {
    const manifest = await loadJson(url);
    manifests.set(name, manifest);
    packages.set(name, await generate(manifest, { runtimeTarballs: FAKE_TARBALLS }));
  }
});

const tsFiles = (p: ConnectorPackage) => [...p.files.keys()].filter((path) => path.endsWith('.ts'));

describe('golden packages', () => {
  for (const name of Object.keys(MANIFESTS) as Name[]) {
    it(`${name} matches its snapshot, file by file`, async () => {
      const p = pkg(name);
      const listed = [...p.files.keys()];
      await expect(`${listed.join('\n')}\n`).toMatchFileSnapshot(`__snapshots__/${name}/files.txt.snap`);
      for (const [path, content] of p.files) {
        if (path.startsWith('vendor/')) {
          expect(content).toBeInstanceOf(Uint8Array);
          continue;
        }
        await expect(content).toMatchFileSnapshot(`__snapshots__/${name}/${path}.snap`);
      }
    });
  }

  it('holds the spec structure, the vendored packages and a package.json wired to them', () => {
    const p = pkg('postgres-orders-cdc');
    expect(p.name).toBe('connector-postgres-orders-v1');
    expect(p.template).toBe('jdbc');
    for (const path of [
      'src/index.ts',
      'src/client.ts',
      'src/extractor.ts',
      'src/transformer.ts',
      'src/loader.ts',
      'src/config.ts',
      'tests/client.test.ts',
      'tests/extractor.test.ts',
      'tests/integration.test.ts',
      'Dockerfile',
      'k8s/deployment.yaml',
      'k8s/service.yaml',
      'k8s/configmap.yaml',
      'k8s/cronjob.yaml',
      'manifest.json',
      'README.md',
    ]) {
      expect(p.files.has(path), path).toBe(true);
    }
    expect(p.files.get('vendor/connector-factory-runtime-0.1.0.tgz')).toEqual(FAKE_TARBALLS.runtime.bytes);
    const json = JSON.parse(text(p, 'package.json'));
    expect(json).toMatchObject({
      name: 'connector-postgres-orders-v1',
      type: 'module',
      engines: { node: '>=20' },
      scripts: { build: 'tsc -p tsconfig.json', start: 'node dist/index.js', prestart: 'npm run build' },
      dependencies: {
        '@connector-factory/ir': 'file:vendor/connector-factory-ir-0.1.0.tgz',
        '@connector-factory/runtime': 'file:vendor/connector-factory-runtime-0.1.0.tgz',
      },
    });
    expect(json.scripts.test).toMatch(/^node --test /);
    expect([...p.files.keys()]).toEqual([...p.files.keys()].sort());
  });

  it('carries the validated manifest, without the editor $schema hint', async () => {
    const carried = JSON.parse(text(pkg('postgres-orders-cdc'), 'manifest.json'));
    const { $schema: _hint, ...original } = manifestOf('postgres-orders-cdc') as ConnectorManifest & {
      $schema?: string;
    };
    expect(_hint).toBeDefined();
    expect(carried).toEqual(original);
    expect(Object.keys(carried)).toEqual(Object.keys(original));
  });
});

describe('determinism', () => {
  it('gives byte-identical packages for the same manifest, whatever its key order', async () => {
    const manifest = manifestOf('mariadb-customers');
    const shuffled = Object.fromEntries(Object.entries(manifest).reverse()) as ConnectorManifest;
    const again = await generate(shuffled, { runtimeTarballs: FAKE_TARBALLS });
    expect([...again.files.keys()]).toEqual([...pkg('mariadb-customers').files.keys()]);
    for (const [path, content] of pkg('mariadb-customers').files) expect(again.files.get(path), path).toEqual(content);
  });
});

describe('injection safety', () => {
  const hostile = () => pkg('hostile-names');
  const entity = () => manifestOf('hostile-names').schema.entities[0]!;

  it('parses every generated module with no syntax error', () => {
    for (const name of Object.keys(MANIFESTS) as Name[]) {
      for (const path of tsFiles(pkg(name)))
        expect(syntaxErrors(path, text(pkg(name), path)), `${name} ${path}`).toEqual([]);
    }
  });

  it('keeps every hostile name a literal: field lists and interface keys read back exactly', () => {
    const source = text(hostile(), 'src/transformer.ts');
    const names = entity().fields.map((f) => f.name);
    const constant = nodesOf('src/transformer.ts', source)
      .filter(ts.isVariableDeclaration)
      .map((d) => d.name.getText())
      .find((n) => n.endsWith('_FIELDS') && n !== 'RECORD_FIELDS')!;
    expect(arrayConstant('src/transformer.ts', source, constant)).toEqual(names);
    const record = nodesOf('src/transformer.ts', source)
      .filter(ts.isInterfaceDeclaration)
      .map((d) => d.name.text)
      .find((n) => n.startsWith('EtcPasswd'))!;
    expect(record).toMatch(/^[A-Za-z0-9]+Record$/);
    expect(interfaceProperties('src/transformer.ts', source, record)).toEqual(names);
    expect(interfaceProperties('src/transformer.ts', source, 'EntityRecords')).toEqual(
      manifestOf('hostile-names').schema.entities.map((e) => e.name),
    );
    expect(arrayConstant('src/extractor.ts', text(hostile(), 'src/extractor.ts'), 'ENTITIES')).toEqual(
      manifestOf('hostile-names').schema.entities.map((e) => e.name),
    );
  });

  it('gives reserved and colliding entity names distinct, valid identifiers', () => {
    const source = text(hostile(), 'src/transformer.ts');
    const interfaces = nodesOf('src/transformer.ts', source)
      .filter(ts.isInterfaceDeclaration)
      .map((d) => d.name.text);
    expect(interfaces).toContain('ClassRecord');
    expect(interfaces).toContain('Class2Record');
    expect(new Set(interfaces).size).toBe(interfaces.length);
  });

  // A name that closed a comment or a literal early would leave code behind: an access or an identifier of its own.
  it('runs nothing a name holds: no call or access that a name could have introduced', () => {
    for (const path of tsFiles(hostile())) {
      for (const node of nodesOf(path, text(hostile(), path))) {
        if (ts.isPropertyAccessExpression(node)) expect(node.name.text, path).not.toBe('exit');
        if (ts.isIdentifier(node)) expect(['passwd', 'etc', 'tick', 'end', 'line'], path).not.toContain(node.text);
      }
    }
  });

  it('never derives a file path from a name', () => {
    const paths = [...hostile().files.keys()];
    expect(paths.every(isPackagePath)).toBe(true);
    expect(paths).toEqual([...pkg('postgres-orders-cdc').files.keys()]);
  });

  it('escapes names in the README and the Kubernetes and Docker files', () => {
    const readme = text(hostile(), 'README.md');
    expect(readme).not.toContain('<script>');
    expect(readme).toContain('\\<script\\>');
    expect(readme).toContain('``../../etc/passwd "quote" `tick` ${process.exit(1)} */ ünï``');
    expect(text(hostile(), 'Dockerfile')).toContain('\\${process.exit(1)}');
    const configMap = kubernetesObjects(hostile()).get('ConfigMap');
    expect(JSON.parse(configMap.data['manifest.json'])).toEqual(JSON.parse(text(hostile(), 'manifest.json')));
  });

  it('type-checks strictly against the runtime, hostile names and all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cf-codegen-tsc-'));
    try {
      await writePackage(hostile(), join(dir, 'pkg'));
      // The repository's node_modules: the workspace runtime and ir, typescript and @types/node.
      await symlink(fileURLToPath(new URL('node_modules', repo)), join(dir, 'pkg', 'node_modules'), 'dir');
      const configPath = join(dir, 'pkg', 'tsconfig.test.json');
      const config = ts.getParsedCommandLineOfConfigFile(
        configPath,
        { noEmit: true },
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
          },
        },
      )!;
      const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
        const where = d.file
          ? `${relative(dir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
          : '';
        return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
      expect(config.fileNames.map((f) => relative(join(dir, 'pkg'), f)).sort()).toEqual(tsFiles(hostile()).sort());
      expect(diagnostics).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('Kubernetes', () => {
  const requiredEnv = (name: Name): string[] =>
    name === 'postgres-orders-cdc'
      ? ['POSTGRES_CONNECTION_STRING']
      : name === 'mariadb-customers'
        ? ['CF_PII_HASH_KEY', 'MARIADB_URL']
        : ['CF_PII_ENCRYPTION_KEY', 'POSTGRES_CONNECTION_STRING'];

  for (const name of Object.keys(MANIFESTS) as Name[]) {
    it(`${name}: every object validates against the Kubernetes schemas and is locked down`, () => {
      const objects = kubernetesObjects(pkg(name));
      expect([...objects.keys()].sort()).toEqual(['ConfigMap', 'CronJob', 'Deployment', 'NetworkPolicy', 'Service']);
      for (const object of objects.values()) {
        expect(Object.keys(object.metadata.labels).sort()).toEqual(
          ['component', 'instance', 'managed-by', 'name', 'part-of', 'version'].map((l) => `app.kubernetes.io/${l}`),
        );
        expect(object.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        expect(object.metadata.name.length).toBeLessThanOrEqual(63);
      }
      const pods = [
        objects.get('Deployment').spec.template.spec,
        objects.get('CronJob').spec.jobTemplate.spec.template.spec,
      ];
      for (const pod of pods) {
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        const [container] = pod.containers;
        expect(container.securityContext).toEqual({
          runAsNonRoot: true,
          runAsUser: 10001,
          runAsGroup: 10001,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
        expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
        expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
        expect(container.resources.requests).toBeDefined();
        expect(container.resources.limits).toBeDefined();
        // Credentials by secretKeyRef only: no literal value for any required variable.
        const secrets = container.env.filter((e: K8s) => e.valueFrom?.secretKeyRef);
        expect(secrets.map((e: K8s) => e.name)).toEqual(requiredEnv(name));
        for (const env of container.env)
          expect(env.value === undefined || !requiredEnv(name).includes(env.name)).toBe(true);
        const mounts = Object.fromEntries(container.volumeMounts.map((m: K8s) => [m.mountPath, m]));
        expect(mounts['/app/manifest.json']).toMatchObject({ readOnly: true, subPath: 'manifest.json' });
        expect(mounts['/tmp']).toBeDefined();
        expect(mounts['/var/lib/connector']).toBeDefined();
      }
      const policy = objects.get('NetworkPolicy').spec;
      expect(policy.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
      expect(policy.egress[0].ports.map((p: K8s) => p.port)).toEqual([53, 53]);
      expect(JSON.parse(objects.get('ConfigMap').data['manifest.json'])).toEqual(
        JSON.parse(text(pkg(name), 'manifest.json')),
      );
      expect(objects.get('Service').spec.ports[0]).toMatchObject({ port: 8080, targetPort: 'http' });
    });
  }

  it('runs a continuous connector as a Deployment and keeps the CronJob suspended', () => {
    const objects = kubernetesObjects(pkg('postgres-orders-cdc'));
    expect(objects.get('Deployment').spec.replicas).toBe(1);
    expect(objects.get('Deployment').spec.strategy).toEqual({ type: 'Recreate' });
    expect(objects.get('CronJob').spec.suspend).toBe(true);
  });

  it('runs a whole-minute interval as a CronJob and keeps the Deployment at 0 replicas', () => {
    const objects = kubernetesObjects(pkg('mariadb-customers'));
    expect(objects.get('CronJob').spec).toMatchObject({
      schedule: '*/15 * * * *',
      suspend: false,
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
    });
    expect(objects.get('CronJob').spec.jobTemplate.spec.template.spec.containers[0].args).toEqual(['--once']);
    expect(objects.get('Deployment').spec.replicas).toBe(0);
    // The local lake folder is writable under the read-only root filesystem.
    const container = objects.get('Deployment').spec.template.spec.containers[0];
    expect(container.volumeMounts.map((m: K8s) => m.mountPath)).toContain('/app/lake/shop');
  });

  it('runs a sub-minute cron in-process in a Deployment', () => {
    const objects = kubernetesObjects(pkg('hostile-names'));
    expect(objects.get('Deployment').spec.replicas).toBe(1);
    expect(objects.get('CronJob').spec.suspend).toBe(true);
  });
});

describe('schedules', () => {
  const cases: [Parameters<typeof workloadFor>[0], ReturnType<typeof workloadFor>['kind'], string?][] = [
    [{ type: 'cron', expression: '0 */15 * * * *' }, 'cronjob', '*/15 * * * *'],
    [{ type: 'cron', expression: '*/5 * * * *' }, 'cronjob', '*/5 * * * *'],
    [{ type: 'cron', expression: '0 0 9 * * 1-7' }, 'cronjob', '0 9 * * 1-6,0'],
    [{ type: 'cron', expression: '0 30 2 * * 7' }, 'cronjob', '30 2 * * 0'],
    [{ type: 'cron', expression: '30 */15 * * * *' }, 'cronjob', '*/15 * * * *'],
    [{ type: 'cron', expression: '*/10 * * * * *' }, 'deployment'],
    [{ type: 'cron', expression: '0,30 * * * * *' }, 'deployment'],
    [{ type: 'interval', intervalSeconds: 60 }, 'cronjob', '* * * * *'],
    [{ type: 'interval', intervalSeconds: 900 }, 'cronjob', '*/15 * * * *'],
    [{ type: 'interval', intervalSeconds: 3600 }, 'cronjob', '0 * * * *'],
    [{ type: 'interval', intervalSeconds: 21_600 }, 'cronjob', '0 */6 * * *'],
    [{ type: 'interval', intervalSeconds: 86_400 }, 'cronjob', '0 0 * * *'],
    [{ type: 'interval', intervalSeconds: 30 }, 'deployment'],
    [{ type: 'interval', intervalSeconds: 90 }, 'deployment'],
    [{ type: 'interval', intervalSeconds: 420 }, 'deployment'],
    [{ type: 'interval', intervalSeconds: 5400 }, 'deployment'],
    [{ type: 'interval', intervalSeconds: 172_800 }, 'deployment'],
    [{ type: 'continuous' }, 'deployment'],
    [{ type: 'event', eventSource: 'orders-webhook' }, 'deployment'],
  ];
  for (const [schedule, kind, cron] of cases) {
    it(`${JSON.stringify(schedule)} → ${kind}${cron ? ` "${cron}"` : ''}`, () => {
      const workload = workloadFor(schedule);
      expect(workload.kind).toBe(kind);
      if (cron !== undefined && workload.kind === 'cronjob') expect(workload.schedule).toBe(cron);
    });
  }

  it('says so when seconds are rounded to the minute', () => {
    const workload = workloadFor({ type: 'cron', expression: '30 */15 * * * *' });
    expect(workload.kind === 'cronjob' && workload.note).toMatch(/second 30/);
    expect(workloadFor({ type: 'cron', expression: '0 */15 * * * *' })).not.toHaveProperty('note');
  });
});

describe('Dockerfile', () => {
  it('passes the linter and is multi-stage, pinned, unprivileged and health-checked', () => {
    for (const name of Object.keys(MANIFESTS) as Name[]) {
      const dockerfile = text(pkg(name), 'Dockerfile');
      expect(lintDockerfile(dockerfile), name).toEqual([]);
      const instructions = dockerfile.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      const from = instructions.filter((line) => line.startsWith('FROM '));
      expect(from).toEqual(['FROM node:20.20.2-bookworm-slim AS build', 'FROM node:20.20.2-bookworm-slim']);
      expect(instructions).toContain('RUN npm ci --no-audit --no-fund');
      expect(instructions.some((line) => line.startsWith('RUN npm ci --omit=dev'))).toBe(true);
      expect(instructions).toContain('USER 10001:10001');
      expect(instructions.find((line) => line.startsWith('HEALTHCHECK '))).toContain('/health');
      expect(instructions.find((line) => line.startsWith('ENV '))).toContain('CF_STATE_DIR="/var/lib/connector"');
      // A PostgreSQL full refresh runs with a small young generation (connectorNodeFlags); others as node does.
      const flags = connectorNodeFlags(manifestOf(name))
        .map((flag) => `"${flag}", `)
        .join('');
      expect(instructions.at(-1)).toBe(`CMD ["node", ${flags}"dist/index.js"]`);
      const user = instructions.findIndex((line) => line.startsWith('USER '));
      expect(instructions.slice(user).some((line) => line.startsWith('RUN '))).toBe(false);
    }
  });
});

describe('templates', () => {
  it.each([
    ['rest_api', 'rest-api', { baseUrl: 'https://api.example.com' }],
    ['graphql', 'graphql', { baseUrl: 'https://api.example.com/graphql' }],
    ['file', 'file', { connectionString: 'file:///data/orders' }],
    ['stream', 'kafka', { connectionString: 'bootstrap.servers=${KAFKA_BROKERS}' }],
    ['custom', 'webhook', {}],
  ] as const)('a %s source has no template yet (%s): a clear error', async (type, kind, extra) => {
    const manifest = structuredClone(manifestOf('postgres-orders-cdc')) as ConnectorManifest;
    const provider = type === 'custom' ? 'webhook' : 'postgres';
    manifest.id = `connector_${provider}_orders_v1`;
    manifest.source = { type, provider, auth: { method: 'none', config: {} }, ...extra } as Source;
    const error = await generate(manifest, { runtimeTarballs: FAKE_TARBALLS }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactoryError);
    expect((error as FactoryError).code).toBe('invalid_input');
    expect((error as FactoryError).message).toBe(
      `the ${kind} template is not available yet (it comes with the ${kind} sources); supported today: jdbc`,
    );
  });

  it('the Salesforce example (rest_api) gets the same clear error', async () => {
    const error = await generate(await loadJson(new URL('examples/salesforce-opportunity.json', repo)), {
      runtimeTarballs: FAKE_TARBALLS,
    }).catch((e: unknown) => e);
    expect((error as FactoryError).message).toMatch(/^the rest-api template is not available yet/);
  });

  it('refuses a jdbc database the runtime cannot read, and an invalid manifest', async () => {
    const oracle = structuredClone(manifestOf('postgres-orders-cdc'));
    oracle.source.provider = 'oracle';
    oracle.id = 'connector_oracle_orders_v1';
    await expect(generate(oracle, { runtimeTarballs: FAKE_TARBALLS })).rejects.toThrow(/reads postgres and mysql/);
    const invalid = { ...manifestOf('postgres-orders-cdc'), version: 'one' } as ConnectorManifest;
    const error = (await generate(invalid, { runtimeTarballs: FAKE_TARBALLS }).catch(
      (e: unknown) => e,
    )) as FactoryError;
    expect(error.code).toBe('invalid_input');
    expect(error.details.join('\n')).toMatch(/version/);
  });
});

describe('writePackage', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cf-codegen-write-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const walk = async (root: string): Promise<string[]> => {
    const out: string[] = [];
    for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
      if (entry.isFile()) out.push(relative(root, join(entry.parentPath, entry.name)).split(sep).join('/'));
    }
    return out.sort();
  };

  it('writes exactly the package files, leaving nothing beside the folder', async () => {
    const out = await writePackage(pkg('hostile-names'), join(dir, 'hostile'));
    expect(await walk(out)).toEqual([...pkg('hostile-names').files.keys()]);
    expect(await readFile(join(out, 'src', 'transformer.ts'), 'utf8')).toBe(
      text(pkg('hostile-names'), 'src/transformer.ts'),
    );
    expect(await readdir(dir)).toEqual(['hostile']);
  });

  it('refuses a folder that is not empty unless forced, then replaces it', async () => {
    const out = join(dir, 'busy');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    await expect(writePackage(pkg('mariadb-customers'), out)).rejects.toThrow(/not empty; pass --force/);
    expect(await readdir(out)).toEqual(['keep.txt']);
    await writePackage(pkg('mariadb-customers'), out, { force: true });
    expect(await walk(out)).toEqual([...pkg('mariadb-customers').files.keys()]);
    expect((await readdir(dir)).sort()).toEqual(['busy', 'hostile']);
  });

  it('refuses any path that is not plainly inside the package', async () => {
    for (const path of ['../escape', '/etc/passwd', 'a/../../b', 'a//b', './a', 'a\\b', 'C:/x', '', 'a/\n/b']) {
      expect(isPackagePath(path), JSON.stringify(path)).toBe(false);
      const bad = { files: new Map<string, string>([[path, 'x']]) };
      await expect(writePackage(bad, join(dir, 'bad'))).rejects.toThrow(/not a path inside the package/);
    }
    expect((await readdir(dir)).sort()).toEqual(['busy', 'hostile']);
  });
});

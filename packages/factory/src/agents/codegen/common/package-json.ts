import type { CodegenContext, TemplateOutput } from '../template.js';
import type { RuntimeTarballs } from '../vendor-runtime.js';

/** Tool versions of a generated package, pinned so a package builds the same everywhere. */
export const TOOLCHAIN = { typescript: '5.9.3', '@types/node': '20.19.43' } as const;

/** The compiled tests, run by Node's own test runner (no test framework to install). */
export const TEST_FILES = ['client', 'extractor', 'integration'].map((name) => `.test-build/tests/${name}.test.js`);

/** Where the vendored tarballs go, relative to the package root. */
export const vendorPath = (fileName: string): string => `vendor/${fileName}`;

/** `package.json`: scripts, the vendored ir and runtime, the pinned toolchain. */
export function packageJson(context: CodegenContext, tarballs: RuntimeTarballs, template: TemplateOutput): object {
  const { manifest, names } = context;
  const sorted = (record: Record<string, string>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    name: names.packageName,
    version: manifest.version,
    description: `${manifest.name}: a Connector Factory connector (${manifest.id}).`,
    private: true,
    type: 'module',
    license: 'UNLICENSED',
    engines: { node: '>=20' },
    scripts: {
      build: 'tsc -p tsconfig.json',
      prestart: 'npm run build',
      start: 'node dist/index.js',
      pretest: 'tsc -p tsconfig.test.json',
      test: `node --test ${TEST_FILES.join(' ')}`,
    },
    dependencies: sorted({
      [tarballs.ir.name]: `file:${vendorPath(tarballs.ir.fileName)}`,
      [tarballs.runtime.name]: `file:${vendorPath(tarballs.runtime.fileName)}`,
    }),
    devDependencies: sorted({ ...TOOLCHAIN, ...template.devDependencies }),
  };
}

/** `tsconfig.json`: strict, NodeNext, src → dist. */
export function tsconfig(): object {
  return {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      noImplicitOverride: true,
      noFallthroughCasesInSwitch: true,
      isolatedModules: true,
      verbatimModuleSyntax: true,
      forceConsistentCasingInFileNames: true,
      skipLibCheck: true,
      sourceMap: true,
      types: ['node'],
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  };
}

/** `tsconfig.test.json`: the same checks over src and tests, compiled to .test-build for `node --test`. */
export function tsconfigTest(): object {
  return {
    extends: './tsconfig.json',
    compilerOptions: { rootDir: '.', outDir: '.test-build', sourceMap: false },
    include: ['src', 'tests'],
  };
}

/** `.gitignore` */
export function gitignoreText(): string {
  return ['node_modules/', 'dist/', '.test-build/', '.connector-state/', ''].join('\n');
}

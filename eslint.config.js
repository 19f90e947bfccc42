import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * What git ignores, as ESLint globs: one list of generated folders (dist, node_modules, the demo's
 * .connector-factory/ and lake/, .scratch/, …) for git, ESLint and Prettier (which reads .gitignore itself).
 * Re-included paths (`!…`) are left out: git keeps a few generated fixtures, lint still does not read them.
 */
function gitignored() {
  return readFileSync(new URL('./.gitignore', import.meta.url), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'))
    .map((pattern) => {
      // As in git: a slash at the start or in the middle anchors the pattern to the root; otherwise it
      // matches at any depth.
      const slash = pattern.indexOf('/');
      const anchored = slash !== -1 && slash !== pattern.length - 1;
      const path = pattern.startsWith('/') ? pattern.slice(1) : pattern;
      return `${anchored ? '' : '**/'}${path}${path.endsWith('/') ? '**' : ''}`;
    });
}

export default tseslint.config(
  { ignores: gitignored() },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        AbortController: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        fetch: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests mutate untyped JSON documents (manifests) on purpose to produce invalid input.
    files: ['**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);

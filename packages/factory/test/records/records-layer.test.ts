import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each import or re-export of a file: the names it brings in and the source file it resolves to. */
function imports(file: string): { names: string[]; target: string }[] {
  const text = readFileSync(file, 'utf8');
  const found: { names: string[]; target: string }[] = [];
  for (const match of text.matchAll(
    /(?:import|export)\s+(?:type\s+)?(?:\{([^}]*)\}|\*|[\w$]+)[^'";]*?from\s+'([^']+)'/g,
  )) {
    const specifier = match[2]!;
    if (!specifier.startsWith('.')) {
      found.push({ names: [], target: specifier });
      continue;
    }
    const names = (match[1] ?? '')
      .split(',')
      .map((name) =>
        name
          .replace(/^\s*type\s+/, '')
          .split(/\s+as\s+/)[0]!
          .trim(),
      )
      .filter((name) => name !== '');
    found.push({ names, target: relative(src, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') });
  }
  return found;
}

/** The names `records/` defines. */
const recordNames = new Set(
  sources(join(src, 'records')).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/^export (?:type|interface) (\w+)/gm)].map((match) => match[1]!),
  ),
);

describe('records', () => {
  it('defines the types the agents and deploy targets share', () => {
    for (const name of ['Environment', 'RiskLevel', 'DeploymentRecord', 'AlertRecord', 'AuditReceipt']) {
      expect(recordNames).toContain(name);
    }
  });

  it('depend on nothing but each other', () => {
    for (const file of sources(join(src, 'records'))) {
      for (const { target } of imports(file)) {
        expect(target, `${relative(src, file)} imports ${target}`).toMatch(/^records\//);
      }
    }
  });

  it('are never taken from the persistence layer outside it', () => {
    for (const file of sources(src)) {
      const path = relative(src, file);
      if (path.startsWith('store/') || path === 'index.ts') continue;
      for (const { names, target } of imports(file)) {
        if (!target.startsWith('store/')) continue;
        const records = names.filter((name) => recordNames.has(name));
        expect(records, `${path} takes ${records.join(', ')} from ${target}`).toEqual([]);
      }
    }
  });

  it('are all a deploy target needs: the target interface does not import the store', () => {
    const targets = imports(join(src, 'agents/deploy/deploy-target.ts')).map(({ target }) => target);
    expect(targets.filter((target) => target.startsWith('store/'))).toEqual([]);
  });
});

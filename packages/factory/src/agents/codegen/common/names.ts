import { createHash } from 'node:crypto';
import type { ConnectorManifest, Entity, Field } from '@connector-factory/ir';

/** Names derived from a manifest for everything the package holds; all are safe where they are used. */
export interface PackageNames {
  /** npm package name and folder: `connector-postgres-orders-v1` (from the validated id). */
  readonly packageName: string;
  /** Kubernetes object name, at most 52 characters (a CronJob's limit). */
  readonly k8sName: string;
  readonly configMapName: string;
  /** The Secret holding the referenced environment variables. */
  readonly secretName: string;
  /** A label value: the manifest version with characters labels do not allow replaced. */
  readonly versionLabel: string;
  /** Container image reference: `<packageName>:<version tag>`. */
  readonly image: string;
}

/** An entity's names in generated TypeScript. */
export interface EntityNames {
  readonly entity: Entity;
  /** `OrdersRecord`: a PascalCase ASCII identifier, unique in the package. */
  readonly recordType: string;
  /** `ORDERS_FIELDS` */
  readonly fieldsConst: string;
  /** The fields the source reads, in manifest order: every field but excluded PII. */
  readonly fields: readonly Field[];
}

/** A short, stable hash of a text (for names that must be shortened). */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

function limit(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  return `${name.slice(0, max - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** Names of the package, its image and its Kubernetes objects. The id is already a safe lower-snake name. */
export function packageNames(manifest: ConnectorManifest): PackageNames {
  const base = manifest.id.replace(/_/g, '-');
  const k8sName = limit(base, 52);
  // Label values: [A-Za-z0-9] at both ends, [-A-Za-z0-9_.] inside, at most 63.
  const versionLabel = manifest.version
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return {
    packageName: base,
    k8sName,
    configMapName: `${k8sName}-manifest`,
    secretName: `${k8sName}-env`,
    versionLabel,
    image: `${base}:${manifest.version.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128)}`,
  };
}

/** The words of a name, ASCII only: `"../../etc/passwd"` → etc, passwd; `customerOrders` → customer, Orders. */
function words(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== '');
}

/** PascalCase identifier stem; never empty, never starting with a digit. */
export function pascalCase(name: string): string {
  const stem = words(name)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
  return stem === '' || /^\d/.test(stem) ? `Entity${stem}` : stem;
}

/** Type and constant names for every entity, unique within the package. */
export function entityNames(manifest: ConnectorManifest): EntityNames[] {
  const taken = new Set<string>();
  const exclude = manifest.governance.piiHandling === 'exclude';
  return manifest.schema.entities.map((entity) => {
    const stem = pascalCase(entity.name);
    let unique = stem;
    for (let n = 2; taken.has(unique); n++) unique = `${stem}${n}`;
    taken.add(unique);
    const upper = unique
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
      .toUpperCase();
    return {
      entity,
      recordType: `${unique}Record`,
      fieldsConst: `${upper}_FIELDS`,
      fields: entity.fields.filter((f) => !(exclude && f.pii === true)),
    };
  });
}

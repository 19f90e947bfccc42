export type DriftClassification = 'none' | 'non_breaking' | 'breaking';

/** What the Monitor found when it re-ran the Schema agent against a running connector's source. */
export interface DriftReport {
  /** `drf_<time>_<random>` */
  readonly id: string;
  readonly connectorId: string;
  readonly deploymentId: string;
  readonly time: string;
  readonly classification: DriftClassification;
  /** Each change: { entity, field, change, from, to, breaking, why }. */
  readonly changes: readonly Readonly<Record<string, unknown>>[];
  /** 'paused' (breaking), 'proposed' (a new version was written), 'none'. */
  readonly action: 'paused' | 'proposed' | 'none';
  /** The proposed manifest's version and where it was written, when action is 'proposed'. */
  readonly proposedVersion: string | null;
  readonly proposedManifestPath: string | null;
}

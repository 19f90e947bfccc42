/** The connector registry's entry for a certified version. */
export interface RegistryEntry {
  readonly connectorId: string;
  readonly version: string;
  readonly deploymentId: string;
  readonly manifestDigest: string;
  /** The metrics and SLO results the certifier saw. */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly certifier: string;
  readonly certifiedAt: string;
}

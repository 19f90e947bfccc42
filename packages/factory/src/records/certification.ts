export type CertificationState = 'PENDING' | 'MONITORING' | 'REVIEW' | 'CERTIFIED' | 'FAILED';

/** Where one deployment stands on its way to certification. */
export interface CertificationRecord {
  /** One per deployment. */
  readonly deploymentId: string;
  readonly connectorId: string;
  readonly version: string;
  readonly state: CertificationState;
  /** How long it must run without an SLO breach (default 24 h). */
  readonly windowMs: number;
  /** When MONITORING began (null before). */
  readonly monitoringSince: string | null;
  /** Why it is in this state (the breach that failed it, the reviewer's reason …). */
  readonly reason: string | null;
  readonly decidedBy: string | null;
  readonly updatedAt: string;
}

export type CertificationPatch = Partial<
  Pick<CertificationRecord, 'state' | 'monitoringSince' | 'reason' | 'decidedBy' | 'updatedAt'>
>;

import type { RiskLevel } from './risk-level.js';

/** One evidence receipt, as an agent hands it to the audit log (the log adds seq, time, hashes, signature). */
export interface ReceiptInput {
  readonly action: string; // 'discover' | 'extract_schema' | 'generate' | 'deploy' | 'approve' | …
  readonly agent: string; // 'discovery' | 'schema' | 'codegen' | 'deploy' | 'cars' | 'monitor' | 'certification' | 'cli'
  readonly actor: string;
  readonly resource: string; // usually the connector id
  readonly riskLevel: RiskLevel;
  /** `sha256:<hex>` digests by name, e.g. { manifest: 'sha256:…', package: 'sha256:…' } */
  readonly inputs: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, string>>;
  readonly result: 'success' | 'failure' | 'refused';
  /** Short, secret-free facts (a deployment id, an error line, a duration). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditReceipt extends ReceiptInput {
  readonly seq: number;
  readonly time: string;
  readonly prevHash: string;
  readonly hash: string;
  /** base64 ed25519 signature over `hash`, when a signing key is configured. */
  readonly signature: string | null;
  /** sha256 fingerprint of the signing public key. */
  readonly keyId: string | null;
}

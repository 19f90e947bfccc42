export { certificationEvidence, type CertificationEvidence } from './certification-evidence.js';
export { connectorStatuses, type ConnectorStatus } from './connector-status.js';
export { deploymentOf } from './deployment-of.js';

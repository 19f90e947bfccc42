export {
  FactoryError,
  isSourceError,
  SOURCE_ERROR_CODES,
  type FactoryErrorCode,
  type SourceErrorCode,
} from './errors.js';
export { parseStructuredText, type ParsedText, type TextPosition } from './source-text.js';
export {
  loadManifestFile,
  validateManifestText,
  type LocatedProblem,
  type ManifestFileResult,
} from './manifest/load-manifest.js';
export { ProviderRegistry, defaultProvidersDirectory, loadProviderRegistry } from './registry/provider-registry.js';
export * from './agents/schema/index.js';
export {
  discover,
  findEntities,
  parseDescription,
  type DestinationHint,
  type DiscoverInput,
  type DiscoveryMatch,
  type ScheduleHint,
  type SourceManifest,
  type StrategyHint,
} from './agents/discovery/index.js';
export {
  decryptValues,
  dropConnectorReplication,
  isRuntimeError,
  runConnector,
  type ConnectorOptions,
  type RunSummary,
} from './runtime.js';
export { composeManifest, type ComposeOptions } from './manifest/compose-manifest.js';
export * from './agents/codegen/index.js';
export { factoryHome } from './home.js';
export * from './secrets/index.js';
export type * from './store/state-store.js';
export { defaultStateLocation, openStateStore } from './store/open-state-store.js';
export {
  AuditLog,
  parseAuditAnchor,
  type AuditAnchor,
  type AuditProblem,
  type AuditProblemKind,
  type AuditVerification,
} from './audit/audit-log.js';
export {
  configHome,
  createAuditSigner,
  defaultAuditKeyFile,
  generateAuditKey,
  keyIdOf,
  loadAuditSigner,
  loadPublicKey,
  type AuditSigner,
} from './audit/audit-signer.js';
export { canonicalJson, digestOf } from './audit/canonical-json.js';
export { Cars, type ApprovalRequest, type WaitOptions } from './cars/cars.js';
export {
  DEFAULT_POLICY,
  RISK_LEVELS,
  loadPolicy,
  parsePolicy,
  riskOf,
  type LevelRequirement,
  type Policy,
  type Role,
} from './cars/policy.js';
export { hasRole, requireRole, resolveActor, type Actor } from './cars/actor.js';
export { openFactoryContext, type FactoryContext, type FactoryContextOptions } from './orchestrator/factory-context.js';
export { createConnector, type CreateOptions, type CreateSummary } from './orchestrator/create-connector.js';
export {
  ACTIVE_STATUSES,
  RUNNING_STATUSES,
  declaredEnv,
  deployConnector,
  resolveDeclaredEnv,
  newDeploymentId,
  type DeployContext,
  type DeployGate,
  type DeployOptions,
  type DeploymentReceipt,
} from './agents/deploy/deploy.js';
export { findDeployments, undeployConnector } from './agents/deploy/undeploy.js';
export {
  buildPackage,
  readPackageManifest,
  type BuiltPackage,
  type ProgressListener,
  type StepReport,
} from './agents/deploy/build-package.js';
export { runSandboxedTests, type TestReport } from './agents/deploy/sandbox.js';
export type { DeployTarget, InstanceSpec, InstanceState, InstanceStatus } from './agents/deploy/deploy-target.js';
export { diffManifests, type ManifestChange } from './agents/deploy/manifest-diff.js';
export { packageDigest } from './agents/deploy/package-digest.js';
export { probeHealth, waitForHealthy, type HealthOutcome } from './agents/deploy/wait-for-healthy.js';
export {
  LocalSupervisor,
  type LocalSupervisorOptions,
  type RestartPolicy,
  type SupervisorEvent,
} from './agents/deploy/local/local-supervisor.js';
export { RemoteSupervisor, ensureSupervisor, findSupervisor } from './agents/deploy/local/supervisor-client.js';
export { supervisorInfoPath, type SupervisorInfo } from './agents/deploy/local/supervisor-server.js';
export { serveSupervisor, type ServeOptions } from './agents/deploy/local/serve-supervisor.js';
export {
  runDemo,
  DEMO_CONNECTION_VARIABLE,
  DEMO_DESCRIPTION,
  type DemoOptions,
  type DemoStatus,
} from './demo/run-demo.js';
export { lakeRowCount, lakeTablePath } from './runtime.js';
export { resumeDeployment } from './agents/deploy/resume.js';
export { Monitor, type MonitorOptions, type MonitorReport } from './agents/monitor/monitor.js';
export { evaluateSlos, type SloInputs, type SloName, type SloResult } from './agents/monitor/slo.js';
export { AlertManager } from './agents/monitor/alert-manager.js';
export { lineSink, webhookSink, type AlertEvent, type AlertSink } from './agents/monitor/alert-sinks.js';
export { classifyDrift, nextMinor, proposeManifest, type DriftChange } from './agents/monitor/drift.js';
export { failureKind, type FailureKind } from './agents/monitor/failure-kind.js';
export {
  CertificationWorkflow,
  DEFAULT_CERTIFY_AFTER_MS,
  type CertificationContext,
  type Observation,
} from './agents/certification/certification.js';
export { scrapeMetrics, type ScrapedMetrics } from './runtime.js';
export {
  enforceManifestRetention,
  RETENTION_ACTION,
  type ManifestRetentionOptions,
  type RetentionReport,
} from './agents/monitor/retention.js';
export {
  certificationEvidence,
  connectorStatuses,
  deploymentOf,
  type CertificationEvidence,
  type ConnectorStatus,
} from './views/index.js';

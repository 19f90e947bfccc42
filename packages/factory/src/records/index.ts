/**
 * The factory's records: what agents, deploy targets, views and the state store pass between them.
 * Plain data, no persistence: the state store (`store/`) keeps them, but nothing here knows how.
 */
export type * from './environment.js';
export type * from './risk-level.js';
export type * from './deployment.js';
export type * from './approval.js';
export type * from './audit.js';
export type * from './monitor.js';
export type * from './alert.js';
export type * from './drift.js';
export type * from './certification.js';
export type * from './registry.js';

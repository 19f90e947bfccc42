export type { PostgresCdcOptions, PostgresCdcSettings } from './cdc-options.js';
export { PostgresCdcReader } from './cdc-reader.js';
export type { CdcState } from './cdc-state.js';
export { formatLsn, parseLsn } from './lsn.js';
export { dropReplication } from './slots.js';

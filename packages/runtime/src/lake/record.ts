export { newRecord } from '../records/record.js';

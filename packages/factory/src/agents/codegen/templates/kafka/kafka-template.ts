import { unavailableTemplate } from '../unavailable.js';

/** The kafka template: its source kind comes in a later issue, so it refuses for now. */
export const kafkaTemplate = unavailableTemplate('kafka');

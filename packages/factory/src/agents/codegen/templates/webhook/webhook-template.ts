import { unavailableTemplate } from '../unavailable.js';

/** The webhook template: its source kind comes in a later issue, so it refuses for now. */
export const webhookTemplate = unavailableTemplate('webhook');

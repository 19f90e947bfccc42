import { unavailableTemplate } from '../unavailable.js';

/** The file template: its source kind comes in a later issue, so it refuses for now. */
export const fileTemplate = unavailableTemplate('file');

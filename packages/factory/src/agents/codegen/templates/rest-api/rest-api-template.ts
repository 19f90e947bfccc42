import { unavailableTemplate } from '../unavailable.js';

/** The rest-api template: its source kind comes in a later issue, so it refuses for now. */
export const restApiTemplate = unavailableTemplate('rest-api');

import { unavailableTemplate } from '../unavailable.js';

/** The graphql template: its source kind comes in a later issue, so it refuses for now. */
export const graphqlTemplate = unavailableTemplate('graphql');

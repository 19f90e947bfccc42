/** Where a connector runs, from a developer's trial to production. */
export type Environment = 'dev' | 'staging' | 'prod';

/**
 * The keyspace, relative to the store prefix (FOREST_KEY_PREFIX). One place builds every
 * key so modules cannot disagree on a layout; see ARCHITECTURE.md "Keyspace".
 */
export const Keyspace = {
  nodes: 'nodes/',
  node: (nodeId: string) => `nodes/${nodeId}`,
  election: 'election/',
  candidate: (nodeId: string) => `election/${nodeId}`,
  groups: 'groups/',
  group: (name: string) => `groups/${name}`,
  jobs: 'jobs/',
  job: (jobId: string) => `jobs/${jobId}`,
} as const;

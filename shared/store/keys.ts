/**
 * Every key of the single table, named after the access pattern it serves. Nothing else builds keys.
 * Generic attributes: pk, sk (table), gsi1pk/gsi1sk (what is bound to a workspace), gsi2pk/gsi2sk
 * (sparse: items whose change is not yet indexed). The README's access-pattern table mirrors this file.
 */
export type Key = { pk: string; sk: string };

export const TABLE_INDEXES = {
  gsi1: { name: 'gsi1', pk: 'gsi1pk', sk: 'gsi1sk' },
  gsi2: { name: 'gsi2', pk: 'gsi2pk', sk: 'gsi2sk' },
} as const;

export const keys = {
  registry: (registryId: string): Key => ({ pk: 'REGISTRIES', sk: `REGISTRY#${registryId}` }),
  allRegistries: () => ({ pk: 'REGISTRIES', skPrefix: 'REGISTRY#' }),

  space: (registryId: string, space: string): Key => ({ pk: `REGISTRY#${registryId}`, sk: `SPACE#${space}` }),
  spacesOfRegistry: (registryId: string) => ({ pk: `REGISTRY#${registryId}`, skPrefix: 'SPACE#' }),

  binding: (registryId: string, space: string, workspaceId: string): Key => ({
    pk: `SPACE#${registryId}#${space}`,
    sk: `BINDING#${workspaceId}`,
  }),
  bindingsOfSpace: (registryId: string, space: string) => ({ pk: `SPACE#${registryId}#${space}`, skPrefix: 'BINDING#' }),
  /** GSI1: the spaces bound to a workspace. */
  bindingByWorkspace: (workspaceId: string, registryId: string, space: string) => ({
    gsi1pk: `WORKSPACE#${workspaceId}`,
    gsi1sk: `BINDING#${registryId}#${space}`,
  }),
  bindingsOfWorkspace: (workspaceId: string) => ({ gsi1pk: `WORKSPACE#${workspaceId}`, skPrefix: 'BINDING#' }),

  repository: (registryId: string, space: string, path: string): Key => ({
    pk: `SPACE#${registryId}#${space}`,
    sk: `REPO#${path}`,
  }),
  /** The indexer's lease on a space (one holder re-derives it at a time) and the work handed to that holder. */
  indexLease: (registryId: string, space: string): Key => ({ pk: `SPACE#${registryId}#${space}`, sk: 'INDEXLEASE' }),
  repositoriesOfSpace: (registryId: string, space: string) => ({ pk: `SPACE#${registryId}#${space}`, skPrefix: 'REPO#' }),

  tag: (registryId: string, path: string, tag: string): Key => ({ pk: `REPO#${registryId}#${path}`, sk: `TAG#${tag}` }),
  tagsOfRepository: (registryId: string, path: string) => ({ pk: `REPO#${registryId}#${path}`, skPrefix: 'TAG#' }),

  workspace: (workspaceId: string): Key => ({ pk: 'WORKSPACES', sk: `WORKSPACE#${workspaceId}` }),
  allWorkspaces: () => ({ pk: 'WORKSPACES', skPrefix: 'WORKSPACE#' }),

  namespace: (cluster: string, namespace: string): Key => ({ pk: 'NAMESPACES', sk: `NAMESPACE#${cluster}#${namespace}` }),
  allNamespaces: () => ({ pk: 'NAMESPACES', skPrefix: 'NAMESPACE#' }),
  /** GSI1: the namespaces bound to a workspace. */
  namespaceByWorkspace: (workspaceId: string, cluster: string, namespace: string) => ({
    gsi1pk: `WORKSPACE#${workspaceId}`,
    gsi1sk: `NAMESPACE#${cluster}#${namespace}`,
  }),
  namespacesOfWorkspace: (workspaceId: string) => ({ gsi1pk: `WORKSPACE#${workspaceId}`, skPrefix: 'NAMESPACE#' }),

  /** Pull access of a workspace on a Harbor registry (`PullGrant`): all of them, or a registry's, in one partition. */
  pullGrant: (registryId: string, workspaceId: string): Key => ({ pk: 'PULLGRANTS', sk: `GRANT#${registryId}#${workspaceId}` }),
  allPullGrants: () => ({ pk: 'PULLGRANTS', skPrefix: 'GRANT#' }),
  pullGrantsOfRegistry: (registryId: string) => ({ pk: 'PULLGRANTS', skPrefix: `GRANT#${registryId}#` }),
  /** GSI1: a workspace's pull grants (its namespaces' pull secret). */
  pullGrantByWorkspace: (workspaceId: string, registryId: string) => ({ gsi1pk: `WORKSPACE#${workspaceId}`, gsi1sk: `PULLGRANT#${registryId}` }),
  pullGrantsOfWorkspace: (workspaceId: string) => ({ gsi1pk: `WORKSPACE#${workspaceId}`, skPrefix: 'PULLGRANT#' }),

  /** Clusters known to the admission webhook (their namespaces are keyed by cluster name on their own). */
  cluster: (cluster: string): Key => ({ pk: 'CLUSTERS', sk: `CLUSTER#${cluster}` }),
  allClusters: () => ({ pk: 'CLUSTERS', skPrefix: 'CLUSTER#' }),
  /** A slot of a cluster's admission decision log: a ring, slot = sequence number modulo its size. */
  admissionDecision: (cluster: string, slot: number): Key => ({ pk: `CLUSTER#${cluster}`, sk: `DECISION#${String(slot).padStart(4, '0')}` }),
  admissionDecisions: (cluster: string) => ({ pk: `CLUSTER#${cluster}`, skPrefix: 'DECISION#' }),

  /** A selector row: an image offered to an audience; pages are Queries on one audience sorted by image. */
  indexRow: (audience: string, image: string): Key => ({ pk: `AUDIENCE#${audience}`, sk: `IMAGE#${image}` }),
  audiencePage: (audience: string) => ({ pk: `AUDIENCE#${audience}`, skPrefix: 'IMAGE#' }),
  /** An audience's version, bumped after every write to its rows: a cached page is exact while it holds (own partition). */
  audienceVersion: (audience: string): Key => ({ pk: `AUDIENCEVERSION#${audience}`, sk: 'VERSION' }),
  /**
   * A search posting: `image` is offered to `audience` and one of its words starts with `prefix` (1..16 of a-z0-9,
   * so never a `#`). Sorted by image like the audience's rows, so a search pages one posting list in selector order;
   * under the audience, so a search reads only the namespace's audiences.
   */
  searchPosting: (audience: string, prefix: string, image: string): Key => ({ pk: `SEARCH#${audience}#${prefix}`, sk: `IMAGE#${image}` }),
  searchPostings: (audience: string, prefix: string) => ({ pk: `SEARCH#${audience}#${prefix}`, skPrefix: 'IMAGE#' }),
  /**
   * A space posting: a space (`range`, `host/space/`) has (or had) images in `audience` and one of its words starts
   * with `prefix`. A search reads the audience's rows of each such space (one range of its sort order) instead of
   * postings of every image. Sorted like the images. Never removed: a space gone reads an empty range.
   */
  searchSpacePosting: (audience: string, prefix: string, range: string): Key => ({ pk: `SEARCHSPACE#${audience}#${prefix}`, sk: `SPACE#${range}` }),
  searchSpacePostings: (audience: string, prefix: string) => ({ pk: `SEARCHSPACE#${audience}#${prefix}`, skPrefix: 'SPACE#' }),
  /**
   * A registry host that has (or had) images in `audience`: a search matches host words on the audience's rows of
   * each such host (one range of its sort order) instead of postings. Never removed: a host gone reads an empty range.
   */
  audienceHost: (audience: string, host: string): Key => ({ pk: `SEARCHHOSTS#${audience}`, sk: `HOST#${host}` }),
  audienceHosts: (audience: string) => ({ pk: `SEARCHHOSTS#${audience}`, skPrefix: 'HOST#' }),
  /**
   * The index's own bookkeeping, one item: when the indexer last applied a batch, how many it applied, the last
   * repair's outcome (`GET /api/v1/status`). Written once per applied batch by every holder.
   */
  indexStatus: (): Key => ({ pk: 'INDEXSTATUS', sk: 'INDEXSTATUS' }),
  /**
   * An audit entry: one partition per UTC day (`at` is an ISO time, so its first 10 characters), sorted by time, then
   * by id, so a day reads newest first and the same event written again lands on the same item.
   */
  auditEntry: (at: string, id: string): Key => ({ pk: `AUDIT#${at.slice(0, 10)}`, sk: `${at}#${id}` }),
  auditDay: (day: string) => ({ pk: `AUDIT#${day}` }),
  /** The days that hold audit entries, so a listing steps from one to the next without reading the empty ones. */
  auditDayMark: (day: string): Key => ({ pk: 'AUDITDAYS', sk: day }),
  auditDays: () => ({ pk: 'AUDITDAYS' }),
  /** GSI2 (sparse): a pending-index mark, sorted by when it was set, so the sweep finds old ones first. */
  pendingMark: (at: string, eventId: string) => ({ gsi2pk: 'PENDING', gsi2sk: `${at}#${eventId}` }),
  allPending: () => ({ gsi2pk: 'PENDING' }),
} as const;

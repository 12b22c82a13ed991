import type { TagDetails } from '../domain/image-details.ts';
import type { Credentials, RegistryKind, RegistryStatus } from '../domain/model.ts';
import { DomainError } from '../errors.ts';
import { createDistributionClient } from './distribution-client.ts';
import { checkRegistryUrl, defaultEgressPolicy, type EgressPolicy } from './egress.ts';
import { createHarborClient, type NewHarborWebhookPolicy } from './harbor-client.ts';
import type { CreatedHarborRobot, HarborRobot, RobotSpec } from './harbor-robots.ts';
import { listDistribution, listHarbor, type ListingOptions, type RegistryListing } from './listing.ts';
import { RegistryCallError } from './registry-error.ts';

// What use cases need of the registry side comes through this module; the clients stay behind it.
export { RegistryCallError, type RegistryCallErrorKind } from './registry-error.ts';
export { webhookPolicyBody, type NewHarborWebhookPolicy } from './harbor-client.ts';
export {
  durationToLast,
  pullPermissions,
  robotMatches,
  type CreatedHarborRobot,
  type HarborRobot,
  type HarborRobotAccess,
  type HarborRobotPermission,
  type RobotSpec,
} from './harbor-robots.ts';
export type { ListedSpace, ListedRepository, ListedTag, ListingProgress, ListingOptions, RegistryListing } from './listing.ts';

/** How to reach one registry. */
export type RegistryTarget = { kind: RegistryKind; url: string; credentials?: Credentials };

/** The calls use cases make to registries (an adapter over the Harbor and distribution clients). */
export type RegistryApi = {
  /**
   * Why `url` may not be registered (it resolves to a link-local or metadata address, a denied range, or this
   * service itself), as a message for a 400; `undefined` when it may. Every connection is checked again.
   */
  checkUrl(url: string): Promise<string | undefined>;
  probe(target: RegistryTarget): Promise<{ status: RegistryStatus; message?: string }>;
  createProject(target: RegistryTarget, name: string, isPublic: boolean): Promise<'created' | 'existed'>;
  setProjectPublic(target: RegistryTarget, name: string, isPublic: boolean): Promise<void>;
  deleteProject(target: RegistryTarget, name: string): Promise<void>;
  /** Everything the registry holds (see `RegistryListing`); throws `RegistryCallError` when it cannot list it all. */
  list(target: RegistryTarget, opts?: ListingOptions): Promise<RegistryListing>;
  /**
   * Docker Registry: what manifest `digest` of repository `path` is (an image's size, an index's platforms), from its
   * body (one GET); `undefined` when it is gone or not a manifest this reads.
   */
  manifestDetails(target: RegistryTarget, path: string, digest: string): Promise<TagDetails | undefined>;
  /** Harbor: whether the project exists; `undefined` when the credentials cannot tell (anonymous, not a member). */
  projectExists(target: RegistryTarget, name: string): Promise<boolean | undefined>;
  /**
   * Harbor: makes sure the project has an enabled policy posting these event types to `policy.url` with
   * `policy.authHeader`: keeps a matching one, rewrites ours (by name) when it drifted, or creates it.
   */
  ensureWebhookPolicy(target: RegistryTarget, project: string, policy: NewHarborWebhookPolicy): Promise<'unchanged' | 'updated' | 'created'>;
  /** The registry's clock (its `Date` header) as ms since epoch; `undefined` when it sends none. */
  serverTime(target: RegistryTarget): Promise<number | undefined>;
  /** Harbor: the system robots whose name (without `robot$`) starts with `namePrefix`, all pages. */
  listRobots(target: RegistryTarget, namePrefix: string): Promise<HarborRobot[]>;
  /** Harbor: robot `id`; `undefined` when Harbor has none. */
  getRobot(target: RegistryTarget, id: number): Promise<HarborRobot | undefined>;
  /**
   * Harbor: creates an enabled system robot, pull-only on `spec.projects` (`pullPermissions`). The answer is the
   * only time the secret is shown. `conflict` when the name is taken, `refused` (403) when the credentials may not,
   * `not-found` when Harbor has no project of that name (its robot controller's 404).
   */
  createRobot(target: RegistryTarget, spec: RobotSpec): Promise<CreatedHarborRobot>;
  /**
   * Harbor: replaces `robot` (name and level as read) with an enabled, pull-only robot on `spec.projects`, with
   * `duration: spec.durationDays` (days from its creation: `robot.duration` keeps its expiry, `durationToLast` extends it).
   */
  updateRobot(target: RegistryTarget, robot: HarborRobot, spec: RobotSpec): Promise<void>;
  /** Harbor: gives robot `id` a new strong random secret and returns the secret in force. */
  refreshRobotSecret(target: RegistryTarget, id: number): Promise<string>;
  /** Harbor: deletes robot `id`; one Harbor does not have counts as deleted. */
  deleteRobot(target: RegistryTarget, id: number): Promise<void>;
};

/** Turns a registry's refusal or absence into the domain's errors (502 / 503 at the HTTP edge). */
export const upstream = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof RegistryCallError)) throw error;
    const code = error.kind === 'unavailable' ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_REFUSED';
    throw new DomainError(code, `${what}: ${error.message}`, { upstreamStatus: error.status, reason: error.kind }, { cause: error });
  }
};

export type HttpRegistryApiOptions = {
  /**
   * Where registry calls may connect; default `defaultEgressPolicy()`, the environment's, read at the first
   * call. A runtime that listens itself passes one that knows its own port and public URL.
   */
  policy?: EgressPolicy;
};

/** The `RegistryApi` over HTTP: Harbor's API v2.0 and the Docker Registry HTTP API v2, through `policy`. */
export const createHttpRegistryApi = (opts: HttpRegistryApiOptions = {}): RegistryApi => {
  const egress = () => opts.policy ?? defaultEgressPolicy();
  const harbor = (t: RegistryTarget) => createHarborClient({ url: t.url, credentials: t.credentials, policy: egress() });
  const distribution = (t: RegistryTarget) => createDistributionClient({ url: t.url, credentials: t.credentials, policy: egress() });
  return {
    checkUrl: (url) => checkRegistryUrl(url, egress()),
    async probe(target) {
      try {
        if (target.kind === 'harbor') {
          await harbor(target).ping();
          if (target.credentials) await harbor(target).checkCredentials();
        } else {
          await distribution(target).ping();
        }
        return { status: 'healthy' };
      } catch (error) {
        if (!(error instanceof RegistryCallError)) throw error;
        return { status: error.kind === 'unauthorized' ? 'unauthorized' : error.kind === 'unavailable' ? 'unreachable' : 'unknown', message: error.message };
      }
    },
    async createProject(target, name, isPublic) {
      try {
        await harbor(target).createProject(name, isPublic);
        return 'created';
      } catch (error) {
        if (error instanceof RegistryCallError && error.kind === 'conflict') return 'existed';
        throw error;
      }
    },
    setProjectPublic: (target, name, isPublic) => harbor(target).setProjectPublic(name, isPublic),
    async deleteProject(target, name) {
      try {
        await harbor(target).deleteProject(name);
      } catch (error) {
        // Already gone in Harbor: the goal of the call holds.
        if (!(error instanceof RegistryCallError && error.kind === 'not-found')) throw error;
      }
    },
    list: (target, opts) => (target.kind === 'harbor' ? listHarbor(harbor(target), opts) : listDistribution(distribution(target), opts)),
    manifestDetails: (target, path, digest) => distribution(target).manifestDetails(path, digest),
    async projectExists(target, name) {
      try {
        return (await harbor(target).getProject(name)) !== undefined;
      } catch (error) {
        if (error instanceof RegistryCallError && (error.kind === 'unauthorized' || error.kind === 'refused')) return undefined;
        throw error;
      }
    },
    async ensureWebhookPolicy(target, project, policy) {
      const client = harbor(target);
      const policies = await client.listWebhookPolicies(project);
      const covers = policies.some(
        (p) =>
          p.enabled &&
          policy.eventTypes.every((t) => p.eventTypes.includes(t)) &&
          p.targets.some((t) => t.type === 'http' && t.address === policy.url && t.authHeader === policy.authHeader),
      );
      if (covers) return 'unchanged';
      const ours = policies.find((p) => p.name === policy.name);
      if (ours) {
        await client.updateWebhookPolicy(project, ours.id, policy);
        return 'updated';
      }
      await client.createWebhookPolicy(project, policy);
      return 'created';
    },
    serverTime: (target) => (target.kind === 'harbor' ? harbor(target).serverTime() : distribution(target).serverTime()),
    listRobots: (target, namePrefix) => harbor(target).listRobots(namePrefix),
    getRobot: (target, id) => harbor(target).getRobot(id),
    createRobot: (target, spec) => harbor(target).createRobot(spec),
    updateRobot: (target, robot, spec) => harbor(target).updateRobot(robot, spec),
    refreshRobotSecret: (target, id) => harbor(target).refreshRobotSecret(id),
    async deleteRobot(target, id) {
      try {
        await harbor(target).deleteRobot(id);
      } catch (error) {
        // Already gone in Harbor: the goal of the call holds.
        if (!(error instanceof RegistryCallError && error.kind === 'not-found')) throw error;
      }
    },
  };
};

/** The `RegistryApi` over HTTP with the environment's egress policy (no knowledge of the service's own endpoints). */
export const httpRegistryApi: RegistryApi = createHttpRegistryApi();

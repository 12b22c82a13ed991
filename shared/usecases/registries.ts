import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { IndexRepairRequested, RegistryConnected, RegistryRemoved, RegistrySyncRequested, type BusEvent } from '../../events/index.ts';
import { Credentials, PullCredentials, RegistryKind, RegistryMode, type Registry, type RegistrySecrets } from '../domain/model.ts';
import { adminWorkspaces, isPlatformAdmin, type Caller } from '../domain/caller.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { DomainError, badRequest, conflict, notFound } from '../errors.ts';
import type { RegistryTarget } from '../registries/registry-api.ts';
import { keys } from '../store/keys.ts';
import { dropSecret, getRegistryOrThrow, webhookOf } from './registry-access.ts';
import { recordAudit } from './audit.ts';
import { retireRobotsOf } from './pull-access.ts';
import { reRegisterWebhookPolicies } from './webhook-config.ts';
import { hashSecret, openSecrets } from './webhook-secrets.ts';
import { publishOrThrow } from '../events/publisher.ts';

export const RegisterRegistryInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  kind: RegistryKind,
  mode: RegistryMode,
  url: z.string().max(2048, 'must be at most 2048 characters').pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  credentials: Credentials.optional(),
  /** Docker Registry: a read-only account every namespace's pull secret carries (never the admin `credentials`). */
  pullCredentials: PullCredentials.optional(),
  insecure: z.boolean().optional(),
});
export type RegisterRegistryInput = z.infer<typeof RegisterRegistryInput>;

const EDITABLE = ['name', 'url', 'credentials', 'pullCredentials', 'insecure'] as const;

/** `PATCH /registries/{id}`: any of the registration's fields but `kind` and `mode`; `pullCredentials: null` removes them. */
export const UpdateRegistryInput = z
  .strictObject({
    name: RegisterRegistryInput.shape.name.optional(),
    url: RegisterRegistryInput.shape.url.optional(),
    /** A `url` on another host changes every image reference in the index: the admin says so. */
    confirmHostChange: z.boolean().optional(),
    credentials: Credentials.optional(),
    pullCredentials: PullCredentials.nullable().optional(),
    insecure: z.boolean().optional(),
  })
  .refine((v) => EDITABLE.some((k) => v[k] !== undefined), `give at least one of ${EDITABLE.join(', ')}`);
export type UpdateRegistryInput = z.infer<typeof UpdateRegistryInput>;

/** What the API shows of a registry: never credentials, never the webhook secret. */
export const registryView = (r: Registry) => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  mode: r.mode,
  url: r.url,
  host: r.host,
  insecure: r.insecure,
  status: r.status,
  statusCheckedAt: r.statusCheckedAt,
  ...(r.statusMessage ? { statusMessage: r.statusMessage } : {}),
  ...(r.lastSuccessAt ? { lastSuccessAt: r.lastSuccessAt } : {}),
  ...(r.webhookCoverage ? { webhookCoverage: r.webhookCoverage } : {}),
  ...(r.skipped ? { skipped: r.skipped } : {}),
  ...(r.clockSkew ? { clockSkew: r.clockSkew } : {}),
  ...(r.indexFailures ? { indexFailures: r.indexFailures } : {}),
  ...(r.previousWebhookSecretUntil ? { previousWebhookSecretUntil: r.previousWebhookSecretUntil } : {}),
  ...(r.pullAccess ? { pullAccess: r.pullAccess } : {}),
  ...(r.pullCredentialsSetAt ? { pullCredentialsSetAt: r.pullCredentialsSetAt } : {}),
  ...(r.ownerWorkspaceId ? { ownerWorkspaceId: r.ownerWorkspaceId } : {}),
  createdAt: r.createdAt,
});

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A registry URL as stored (`href`: no trailing slash) after the address policy's check; `host` names its images. */
const checkedUrl = async (deps: Deps, raw: string) => {
  const refusal = await deps.registryApi.checkUrl(raw);
  if (refusal) throw badRequest(`invalid url: ${refusal}`, { issues: [{ path: 'url', message: refusal }] });
  const url = new URL(raw);
  return { href: `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`, host: url.host };
};

/**
 * A workspace-owned registry makes its host's images its owner's alone (admission refuses them to every other
 * namespace), so a workspace may not claim a public registry everybody pulls from. Checked on the URL as given,
 * before anything is resolved or called.
 */
const refusePublicHost = (owner: string | undefined, url: string) => {
  const host = new URL(url).host.replace(/:443$/, '');
  if (owner && PUBLIC_REGISTRY_HOSTS.has(host))
    throw badRequest(`invalid url: ${host} is a public registry; a workspace cannot own it`, { issues: [{ path: 'url', message: `${host} is a public registry` }] });
};

/** One registry per host: image references name the host, so two registries there could not be told apart. */
const refuseServedHost = async (deps: Deps, host: string) => {
  const clash = (await deps.store.registries.list()).find((r) => r.host === host);
  if (clash) throw conflict(`registry ${clash.id} already serves ${host}`, { registryId: clash.id });
};

/** Registries the whole world pulls from: never a workspace's own. */
const PUBLIC_REGISTRY_HOSTS = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
  'ghcr.io',
  'quay.io',
  'gcr.io',
  'registry.k8s.io',
  'k8s.gcr.io',
  'public.ecr.aws',
  'mcr.microsoft.com',
  'registry.gitlab.com',
  'nvcr.io',
]);

const CHECKED = { url: 'new url', credentials: 'credentials', pullCredentials: 'pull credentials' } as const;

/**
 * Probes `target` for the request's field `path`: refused → 400 with the registry's reason, no answer → 503. Returns
 * the (healthy) probe.
 */
const requireAccepted = async (deps: Deps, target: RegistryTarget, path: keyof typeof CHECKED) => {
  const health = await deps.registryApi.probe(target);
  if (health.status === 'unauthorized') {
    const message = `the registry refused ${path === 'url' ? 'the credentials' : 'them'}: ${health.message ?? 'unauthorized'}`;
    throw badRequest(`invalid ${path}: ${message}`, { issues: [{ path, message }] });
  }
  if (health.status !== 'healthy')
    throw new DomainError('UPSTREAM_UNAVAILABLE', `the ${CHECKED[path]} could not be checked: ${health.message ?? health.status}`, { upstreamStatus: health.status });
  return health;
};

/**
 * Pull credentials are for a Docker Registry (Harbor's pull access is its robots), never the admin account, and
 * must work: a registry that refuses them answers 400 with its reason, one that does not answer 503. Nothing is
 * stored in either case.
 */
const checkPullCredentials = async (deps: Deps, r: { kind: Registry['kind']; url: string; admin?: Credentials }, pull: PullCredentials) => {
  const issue = (message: string) => badRequest(`invalid pullCredentials: ${message}`, { issues: [{ path: 'pullCredentials', message }] });
  if (r.kind !== 'docker-registry') throw issue('Harbor pull access is kept by per-workspace robots; pullCredentials are for a Docker Registry');
  if (r.admin?.username === pull.username) throw issue('must be a read-only account, not the admin credentials');
  await requireAccepted(deps, { kind: r.kind, url: r.url, credentials: pull }, 'pullCredentials');
};

/**
 * Connects a registry: a platform registry, or one owned by workspace `owner` (its spaces are then offered to that
 * workspace's namespaces only, see `shared/domain/rule.ts`). It is stored even when it does not answer (`status:
 * "unreachable"`); the webhook secret is returned once and kept only as a hash.
 */
export const registerRegistry = async (input: RegisterRegistryInput, deps: Deps, ctx: Ctx, owner?: string) => {
  if (owner && !(await deps.store.tenancy.getWorkspace(owner))) throw notFound(`workspace ${owner} not found`);
  refusePublicHost(owner, input.url);
  const url = await checkedUrl(deps, input.url);
  const normalizedUrl = url.href;
  await refuseServedHost(deps, url.host);

  const id = `reg-${Array.from(randomBytes(12), (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('')}`;
  const secret = randomBytes(32).toString('base64url');
  const target: RegistryTarget = { kind: input.kind, url: normalizedUrl, ...(input.credentials ? { credentials: input.credentials } : {}) };
  const health = await deps.registryApi.probe(target);
  if (input.pullCredentials) await checkPullCredentials(deps, { kind: input.kind, url: normalizedUrl, ...(input.credentials ? { admin: input.credentials } : {}) }, input.pullCredentials);
  const now = deps.clock().toISOString();
  const registry: Registry = {
    id,
    name: input.name,
    kind: input.kind,
    mode: input.mode,
    url: normalizedUrl,
    host: url.host,
    insecure: input.insecure ?? false,
    status: health.status,
    statusCheckedAt: now,
    ...(health.message ? { statusMessage: health.message } : {}),
    secretRef: await deps.secrets.seal(id, JSON.stringify({ credentials: input.credentials, webhookSecret: secret } satisfies RegistrySecrets)),
    webhookSecretHash: hashSecret(secret),
    ...(input.pullCredentials ? { pullCredentialsRef: await sealPullCredentials(deps, id, input.pullCredentials), pullCredentialsSetAt: now } : {}),
    ...(owner ? { ownerWorkspaceId: owner } : {}),
    createdAt: now,
  };
  const event = newEvent(deps, ctx, RegistryConnected, { registryId: id, kind: input.kind, host: url.host });
  if (!(await deps.store.registries.create(registry, event))) throw conflict(`registry ${id} already exists`);
  await publish(deps, event);
  return { ...registryView(registry), webhook: webhookOf(deps, registry, secret) };
};


/** Every registry for a platform admin; for a workspace admin, those their workspaces own. */
export const listRegistries = async (caller: Caller, deps: Deps) => {
  const all = await deps.store.registries.list();
  const owners = adminWorkspaces(caller);
  const mine = isPlatformAdmin(caller) ? all : all.filter((r) => r.ownerWorkspaceId !== undefined && owners.includes(r.ownerWorkspaceId));
  return { items: mine.map(registryView) };
};

export const getRegistry = async (id: string, deps: Deps) => registryView(await getRegistryOrThrow(deps, id));

/** Each version of a registry's pull credentials is an item of its own (Secrets Manager keeps a removed name a while). */
const sealPullCredentials = (deps: Deps, id: string, pull: PullCredentials) => deps.secrets.seal(`${id}-pull-${randomBytes(6).toString('hex')}`, JSON.stringify(pull));

/**
 * Where an edit puts the registry. A `url` is checked like a registration's; one on another host moves every image
 * reference, so it needs `confirmHostChange` and a host no other registry serves.
 */
const addressOf = async (deps: Deps, registry: Registry, input: UpdateRegistryInput) => {
  if (input.url === undefined) return { href: registry.url, host: registry.host };
  refusePublicHost(registry.ownerWorkspaceId, input.url);
  const next = await checkedUrl(deps, input.url);
  if (next.host === registry.host) return next;
  if (!input.confirmHostChange) {
    const message = `moves the registry from ${registry.host} to ${next.host}, which changes every image reference; send confirmHostChange: true to do it`;
    throw badRequest(`invalid url: ${message}`, { issues: [{ path: 'url', message }] });
  }
  await refuseServedHost(deps, next.host);
  return next;
};

/**
 * Checks an edit against the registry at its new address before anything is stored: new credentials (or, on a new
 * host, the stored ones) and new pull credentials must be accepted. Returns the probe of the admin account, if made.
 */
const checkEdit = async (deps: Deps, registry: Registry, input: UpdateRegistryInput, address: { href: string; host: string }, stored: RegistrySecrets) => {
  const admin = input.credentials ?? stored.credentials;
  const target: RegistryTarget = { kind: registry.kind, url: address.href, ...(admin ? { credentials: admin } : {}) };
  const health = input.credentials || address.host !== registry.host ? await requireAccepted(deps, target, input.credentials ? 'credentials' : 'url') : undefined;
  if (input.pullCredentials) await checkPullCredentials(deps, { kind: registry.kind, url: address.href, ...(admin ? { admin } : {}) }, input.pullCredentials);
  return health;
};

/**
 * The index repair a host change asks for. It carries the registry item's pending mark (set with the change), so the
 * sweep re-emits it until every image reference moved.
 */
const hostChangeRepair = (deps: Deps, ctx: Ctx, id: string): BusEvent => {
  const event = newEvent(deps, ctx, IndexRepairRequested, { registryId: id });
  return { ...event, detail: { ...event.detail, metadata: { ...event.detail.metadata, mark: keys.registry(id) } } };
};

/**
 * Edits a registry. The whole request is checked first (nothing changes when the registry refuses or does not
 * answer); new credentials are sealed with the webhook secrets in a new item, new pull credentials in one of their
 * own, and the write is conditional on the items they replace, so two edits at once (or an edit and a rotation)
 * cannot leave a removed account in force. A host change re-derives every image reference (`IndexRepairRequested`,
 * with a pending mark); a Harbor's webhook policies are registered again when its URL changes.
 */
export const updateRegistry = async (id: string, input: UpdateRegistryInput, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, id);
  const address = await addressOf(deps, registry, input);
  const stored = await openSecrets(deps, registry);
  const health = await checkEdit(deps, registry, input, address, stored);
  const now = deps.clock().toISOString();
  const secretRef = input.credentials ? await deps.secrets.seal(`${id}-${randomBytes(6).toString('hex')}`, JSON.stringify({ ...stored, credentials: input.credentials } satisfies RegistrySecrets)) : undefined;
  const pullCredentialsRef = input.pullCredentials ? await sealPullCredentials(deps, id, input.pullCredentials) : undefined;
  const repair = address.host !== registry.host ? hostChangeRepair(deps, ctx, id) : undefined;
  const fields = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(input.url !== undefined ? { url: address.href, host: address.host } : {}),
    ...(input.insecure !== undefined ? { insecure: input.insecure } : {}),
    ...(health ? { status: health.status, statusCheckedAt: now } : {}),
  };
  const written = await deps.store.registries.edit(id, fields, {
    ...(health ? { remove: ['statusMessage'] as const } : {}),
    ...(input.pullCredentials !== undefined ? { pull: { from: registry.pullCredentialsRef, ...(pullCredentialsRef ? { ref: pullCredentialsRef, setAt: now } : {}) } } : {}),
    ...(secretRef ? { secret: { from: registry.secretRef, ref: secretRef } } : {}),
    ...(repair ? { event: repair } : {}),
  });
  if (!written) {
    for (const ref of [secretRef, pullCredentialsRef]) await dropSecret(deps, ref, { registryId: id });
    throw conflict(`registry ${id} changed meanwhile (its credentials were edited, its webhook secret rotated, or it was removed); retry`);
  }
  await recordAudit(deps, ctx, { action: 'RegistryUpdated', target: { registryId: id }, workspaces: registry.ownerWorkspaceId ? [registry.ownerWorkspaceId] : [] });
  if (secretRef) await dropSecret(deps, registry.secretRef, { registryId: id });
  if (input.pullCredentials !== undefined) await dropSecret(deps, registry.pullCredentialsRef, { registryId: id });
  if (repair) await publish(deps, repair);
  if (address.href !== registry.url) await reRegisterWebhookPolicies(deps, await getRegistryOrThrow(deps, id), 'a change of its url');
  return getRegistry(id, deps);
};

/**
 * Removes a registry; the indexer then purges its spaces from every selector. Its Harbor robots are marked for
 * deletion first: the pull-access consumer deletes them with the registry's credentials, which are removed with the
 * last robot (retried while Harbor does not answer).
 */
export const removeRegistry = async (id: string, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, id);
  const robots = await retireRobotsOf(deps, ctx, registry);
  const event = newEvent(deps, ctx, RegistryRemoved, { registryId: id });
  if (!(await deps.store.registries.markRemoved(id, event))) throw notFound(`registry ${id} not found`);
  await publish(deps, event, ...robots.events);
  if (!robots.keepsSecrets) await deps.secrets.remove(registry.secretRef);
  await dropSecret(deps, registry.pullCredentialsRef, { registryId: id });
};

/**
 * Asks for a reconcile of the registry now (it runs asynchronously: listing a large registry takes longer than
 * an HTTP answer may; its outcome shows in the registry's `status`, `lastSuccessAt` and `statusMessage`).
 */
export const syncRegistry = async (id: string, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, id);
  try {
    // Not a state change, so no pending mark: when the bus refuses, the caller is told to retry.
    await publishOrThrow(deps.bus, [newEvent(deps, ctx, RegistrySyncRequested, { registryId: id, reason: 'manual' })]);
  } catch (error) {
    throw new DomainError('UPSTREAM_UNAVAILABLE', 'the sync request could not be queued; retry', undefined, { cause: error });
  }
  return { registryId: id, accepted: true, status: registry.status, ...(registry.lastSuccessAt ? { lastSuccessAt: registry.lastSuccessAt } : {}) };
};

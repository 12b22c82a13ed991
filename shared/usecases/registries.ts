import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { RegistryConnected, RegistryRemoved, RegistrySyncRequested } from '../../events/index.ts';
import { Credentials, PullCredentials, RegistryKind, RegistryMode, type Registry, type RegistrySecrets } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { DomainError, badRequest, conflict, notFound } from '../errors.ts';
import type { RegistryTarget } from '../registries/registry-api.ts';
import { dropSecret, getRegistryOrThrow, webhookOf } from './registry-access.ts';
import { retireRobotsOf } from './pull-access.ts';
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

/** `PATCH /registries/{id}`: the name, and a Docker Registry's pull credentials (`null` removes them). */
export const UpdateRegistryInput = z
  .strictObject({ name: z.string().trim().min(1).max(100).optional(), pullCredentials: PullCredentials.nullable().optional() })
  .refine((v) => v.name !== undefined || v.pullCredentials !== undefined, 'give at least one of name, pullCredentials');
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
  createdAt: r.createdAt,
});

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Pull credentials are for a Docker Registry (Harbor's pull access is its robots), never the admin account, and
 * must work: a registry that refuses them answers 400 with its reason, one that does not answer 503. Nothing is
 * stored in either case.
 */
const checkPullCredentials = async (deps: Deps, r: { kind: Registry['kind']; url: string; admin?: Credentials }, pull: PullCredentials) => {
  const issue = (message: string) => badRequest(`invalid pullCredentials: ${message}`, { issues: [{ path: 'pullCredentials', message }] });
  if (r.kind !== 'docker-registry') throw issue('Harbor pull access is kept by per-workspace robots; pullCredentials are for a Docker Registry');
  if (r.admin?.username === pull.username) throw issue('must be a read-only account, not the admin credentials');
  const health = await deps.registryApi.probe({ kind: r.kind, url: r.url, credentials: pull });
  if (health.status === 'unauthorized') throw issue(`the registry refused them: ${health.message ?? 'unauthorized'}`);
  if (health.status !== 'healthy')
    throw new DomainError('UPSTREAM_UNAVAILABLE', `the pull credentials could not be checked: ${health.message ?? health.status}`, { upstreamStatus: health.status });
};

/**
 * Connects a registry. It is stored even when it does not answer (`status: "unreachable"`); the webhook
 * secret is returned once and kept only as a hash.
 */
export const registerRegistry = async (input: RegisterRegistryInput, deps: Deps, ctx: Ctx) => {
  const refusal = await deps.registryApi.checkUrl(input.url);
  if (refusal) throw badRequest(`invalid url: ${refusal}`, { issues: [{ path: 'url', message: refusal }] });
  const url = new URL(input.url);
  const normalizedUrl = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  const existing = await deps.store.registries.list();
  const clash = existing.find((r) => r.host === url.host);
  if (clash) throw conflict(`registry ${clash.id} already serves ${url.host}`, { registryId: clash.id });

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
    createdAt: now,
  };
  const event = newEvent(deps, ctx, RegistryConnected, { registryId: id, kind: input.kind, host: url.host });
  if (!(await deps.store.registries.create(registry, event))) throw conflict(`registry ${id} already exists`);
  await publish(deps, event);
  return { ...registryView(registry), webhook: webhookOf(deps, registry, secret) };
};


export const listRegistries = async (deps: Deps) => ({ items: (await deps.store.registries.list()).map(registryView) });

export const getRegistry = async (id: string, deps: Deps) => registryView(await getRegistryOrThrow(deps, id));

/** Each version of a registry's pull credentials is an item of its own (Secrets Manager keeps a removed name a while). */
const sealPullCredentials = (deps: Deps, id: string, pull: PullCredentials) => deps.secrets.seal(`${id}-pull-${randomBytes(6).toString('hex')}`, JSON.stringify(pull));

/**
 * Edits a registry. New pull credentials are checked against the registry first (nothing changes when it refuses
 * or does not answer) and sealed in a new item of their own; the write is conditional on the item it replaces, so
 * two edits at once cannot leave a removed account in force. Every pull secret's ETag changes with them.
 */
export const updateRegistry = async (id: string, input: UpdateRegistryInput, deps: Deps) => {
  const registry = await getRegistryOrThrow(deps, id);
  let pullCredentialsRef: string | undefined;
  if (input.pullCredentials) {
    const { credentials } = await openSecrets(deps, registry);
    await checkPullCredentials(deps, { kind: registry.kind, url: registry.url, ...(credentials ? { admin: credentials } : {}) }, input.pullCredentials);
    pullCredentialsRef = await sealPullCredentials(deps, id, input.pullCredentials);
  }
  const pull = input.pullCredentials === undefined ? undefined : { from: registry.pullCredentialsRef, ...(pullCredentialsRef ? { ref: pullCredentialsRef, setAt: deps.clock().toISOString() } : {}) };
  if (!(await deps.store.registries.edit(id, { ...(input.name !== undefined ? { name: input.name } : {}) }, pull))) {
    await dropSecret(deps, pullCredentialsRef, { registryId: id });
    throw conflict(`registry ${id} changed meanwhile (its pull credentials were edited, or it was removed); retry`);
  }
  if (pull) await dropSecret(deps, registry.pullCredentialsRef, { registryId: id });
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

import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { RegistryConnected, RegistryRemoved, RegistrySyncRequested } from '../../events/index.ts';
import { Credentials, RegistryKind, RegistryMode, type Registry, type RegistrySecrets } from '../domain/model.ts';
import { newEvent, publish, type Ctx, type Deps } from '../deps.ts';
import { DomainError, badRequest, conflict, notFound } from '../errors.ts';
import type { RegistryTarget } from '../registries/registry-api.ts';
import { hashSecret, openSecrets } from './webhook-secrets.ts';

export const RegisterRegistryInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  kind: RegistryKind,
  mode: RegistryMode,
  url: z.string().max(2048, 'must be at most 2048 characters').pipe(z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' })),
  credentials: Credentials.optional(),
  insecure: z.boolean().optional(),
});
export type RegisterRegistryInput = z.infer<typeof RegisterRegistryInput>;

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
  createdAt: r.createdAt,
});

export const webhookUrl = (deps: Pick<Deps, 'publicUrl'>, r: Pick<Registry, 'id' | 'kind'>) =>
  `${deps.publicUrl.replace(/\/$/, '')}/webhooks/${r.kind === 'harbor' ? 'harbor' : 'distribution'}/${r.id}`;

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * How a delivery authenticates, as the registration and rotation answers show it. Harbor: each project's policy has
 * its own secret, derived from the registry's (the service registers the policies itself when its credentials allow).
 */
const authHeaderOf = (r: Pick<Registry, 'kind'>, secret: string) =>
  r.kind === 'harbor' ? 'Bearer <project>:<base64url HMAC-SHA256 of "harbor-project:<project>" keyed with the secret>' : `Bearer ${secret}`;

/** The webhook part of a registration or rotation answer: the only answers that ever show the secret. */
export const webhookOf = (deps: Deps, r: Registry, secret: string) => ({ url: webhookUrl(deps, r), secret, authHeader: authHeaderOf(r, secret) });

/** The registry's address and opened credentials, for calls to it. */
export const targetOf = async (deps: Deps, r: Registry): Promise<RegistryTarget> => {
  const { credentials } = await openSecrets(deps, r);
  return { kind: r.kind, url: r.url, ...(credentials ? { credentials } : {}) };
};

export const getRegistryOrThrow = async (deps: Deps, id: string) => {
  const registry = await deps.store.registries.get(id);
  if (!registry) throw notFound(`registry ${id} not found`);
  return registry;
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
    createdAt: now,
  };
  const event = newEvent(deps, ctx, RegistryConnected, { registryId: id, kind: input.kind, host: url.host });
  if (!(await deps.store.registries.create(registry, event))) throw conflict(`registry ${id} already exists`);
  await publish(deps, event);
  return { ...registryView(registry), webhook: webhookOf(deps, registry, secret) };
};


export const listRegistries = async (deps: Deps) => ({ items: (await deps.store.registries.list()).map(registryView) });

export const getRegistry = async (id: string, deps: Deps) => registryView(await getRegistryOrThrow(deps, id));

/** Removes a registry; the indexer then purges its spaces from every selector. */
export const removeRegistry = async (id: string, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, id);
  const event = newEvent(deps, ctx, RegistryRemoved, { registryId: id });
  if (!(await deps.store.registries.markRemoved(id, event))) throw notFound(`registry ${id} not found`);
  await publish(deps, event);
  await deps.secrets.remove(registry.secretRef);
};

/**
 * Asks for a reconcile of the registry now (it runs asynchronously: listing a large registry takes longer than
 * an HTTP answer may; its outcome shows in the registry's `status`, `lastSuccessAt` and `statusMessage`).
 */
export const syncRegistry = async (id: string, deps: Deps, ctx: Ctx) => {
  const registry = await getRegistryOrThrow(deps, id);
  try {
    // Not a state change, so no pending mark: when the bus refuses, the caller is told to retry.
    await deps.bus.put([newEvent(deps, ctx, RegistrySyncRequested, { registryId: id, reason: 'manual' })]);
  } catch (error) {
    throw new DomainError('UPSTREAM_UNAVAILABLE', 'the sync request could not be queued; retry', undefined, { cause: error });
  }
  return { registryId: id, accepted: true, status: registry.status, ...(registry.lastSuccessAt ? { lastSuccessAt: registry.lastSuccessAt } : {}) };
};

import type { Registry } from '../domain/model.ts';
import type { Deps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { logger } from '../logger.ts';
import type { RegistryTarget } from '../registries/registry-api.ts';
import { openSecrets } from './webhook-secrets.ts';

/**
 * Removes a secret item that is no longer in force (an old version, a retired robot's). Best effort: the change that
 * replaced it is already stored, so a failure is logged with `about` (never the secret), not thrown.
 */
export const dropSecret = async (deps: Pick<Deps, 'secrets'>, ref: string | undefined, about: Record<string, string>) => {
  if (!ref) return;
  try {
    await deps.secrets.remove(ref);
  } catch (error) {
    logger.warn('an old secret item was not removed', { ...about, error: String(error) });
  }
};

/** The registry, or `NOT_FOUND` (404) when there is none with `id`. */
export const getRegistryOrThrow = async (deps: Deps, id: string) => {
  const registry = await deps.store.registries.get(id);
  if (!registry) throw notFound(`registry ${id} not found`);
  return registry;
};

/** The registry's address and opened credentials, for calls to it. */
export const targetOf = async (deps: Deps, r: Registry): Promise<RegistryTarget> => {
  const { credentials } = await openSecrets(deps, r);
  return { kind: r.kind, url: r.url, ...(credentials ? { credentials } : {}) };
};

/** Where the registry posts its webhooks: `<PUBLIC_URL>/webhooks/{harbor|distribution}/<id>`. */
export const webhookUrl = (deps: Pick<Deps, 'publicUrl'>, r: Pick<Registry, 'id' | 'kind'>) =>
  `${deps.publicUrl.replace(/\/$/, '')}/webhooks/${r.kind === 'harbor' ? 'harbor' : 'distribution'}/${r.id}`;

/**
 * How a delivery authenticates, as the registration and rotation answers show it. Harbor: each project's policy has
 * its own secret, derived from the registry's (the service registers the policies itself when its credentials allow).
 */
const authHeaderOf = (r: Pick<Registry, 'kind'>, secret: string) =>
  r.kind === 'harbor' ? 'Bearer <project>:<base64url HMAC-SHA256 of "harbor-project:<project>" keyed with the secret>' : `Bearer ${secret}`;

/** The webhook part of a registration or rotation answer: the only answers that ever show the secret. */
export const webhookOf = (deps: Deps, r: Registry, secret: string) => ({ url: webhookUrl(deps, r), secret, authHeader: authHeaderOf(r, secret) });

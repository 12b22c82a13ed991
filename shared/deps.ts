import type { z } from 'zod';
import type { EventContract } from '../events/contract.ts';
import type { PullAccessSettings } from './domain/pull-access.ts';
import type { RegistryApi } from './registries/registry-api.ts';
import type { SecretStore } from './secrets/secret-store.ts';
import { createEvent, type Bus } from './events/publisher.ts';
import { logger } from './logger.ts';
import type { Store } from './store/index.ts';

/** What use cases need, passed explicitly: real local parts in tests, AWS or embedded parts at run time. */
export type Deps = {
  store: Store;
  bus: Bus;
  secrets: SecretStore;
  registryApi: RegistryApi;
  clock: () => Date;
  /** How far ahead of `clock` an event time from outside may be (see `eventTimeProblem`). */
  clockSkewMs: number;
  /** Base of the webhook URLs handed out. */
  publicUrl: string;
  /** How the Harbor pull robots are named and aged. */
  pullAccess: PullAccessSettings;
};

/** Per-call context: ties every event of one request together. */
export type Ctx = { correlationId: string };

export const newEvent = <T extends z.ZodType>(deps: Deps, ctx: Ctx, contract: EventContract<T>, data: z.input<T>) =>
  createEvent(contract, data, { correlationId: ctx.correlationId, now: deps.clock() });

/**
 * Publishes after the write. A failure is logged, not thrown: the change is already durable and carries
 * its pending mark, so the sweep re-emits it.
 */
export const publish = async (deps: Deps, ...events: Parameters<Bus['put']>[0]) => {
  if (events.length === 0) return;
  try {
    await deps.bus.put(events);
  } catch (error) {
    logger.error('publish failed; the sweep will re-emit', { error: String(error), detailTypes: events.map((e) => e.detailType) });
  }
};

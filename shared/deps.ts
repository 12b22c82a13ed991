import type { z } from 'zod';
import type { EventContract } from '../events/contract.ts';
import type { PullAccessSettings } from './domain/pull-access.ts';
import type { RegistryApi } from './registries/registry-api.ts';
import type { SecretStore } from './secrets/secret-store.ts';
import { createEvent, type Bus } from './events/publisher.ts';
import type { Store } from './store/index.ts';

export { publish } from './events/publisher.ts';

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
  /** Days an audit entry is kept (`AUDIT_TTL_DAYS`). */
  auditTtlDays: number;
};

/**
 * Per-call context: ties every event of one request together and says who acts: an admin's token `sub`,
 * `registry:<id>` for a registry's webhook (with the registry's own `operator`, when its payload names one), or a
 * job's name.
 */
export type Ctx = { correlationId: string; actor: string; operator?: string };

export const newEvent = <T extends z.ZodType>(deps: Deps, ctx: Ctx, contract: EventContract<T>, data: z.input<T>) =>
  createEvent(contract, data, { correlationId: ctx.correlationId, actor: ctx.actor, ...(ctx.operator ? { operator: ctx.operator } : {}), now: deps.clock() });


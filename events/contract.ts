import * as z from 'zod';

/** Bus `source` of every event this service publishes. */
export const SOURCE = 'platform.image-registry';

/** A versioned event contract: detail type, integer version, the zod schema of `data`, and the item whose pending mark it clears. */
export type EventContract<T extends z.ZodType = z.ZodType> = {
  readonly detailType: string;
  readonly version: number;
  readonly data: T;
  /** The item whose write set this event's pending mark (none: the event is not a state change). */
  readonly marked?: (data: z.infer<T>) => MarkKey;
};

export const defineEvent = <T extends z.ZodType>(detailType: string, version: number, data: T, marked?: (data: z.infer<T>) => MarkKey): EventContract<T> => ({
  detailType,
  version,
  data,
  ...(marked ? { marked } : {}),
});

/** A table key (`shared/store/keys.ts` builds them). */
export const MarkKey = z.object({ pk: z.string(), sk: z.string() });
export type MarkKey = z.infer<typeof MarkKey>;

export const EventMetadata = z.object({
  version: z.number().int(),
  id: z.string(),
  correlationId: z.string(),
  /** Who made the change (`Ctx.actor`); absent on events made before it was recorded. */
  actor: z.string().max(300).optional(),
  /** A webhook's: who acted in the registry, as its payload says (Harbor's `operator`, Docker Registry's `actor.name`). */
  operator: z.string().max(255).optional(),
  occurredAt: z.string(),
  /** The item carrying this event's pending mark, set when the event is made (absent on events of older versions). */
  mark: MarkKey.optional(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/** The `detail` of every event: `{ metadata, data }`. */
export const EventDetail = z.object({ metadata: EventMetadata, data: z.unknown() });

/** An event ready for the bus; `BusEvent<typeof TagPushed>` has its contract's data. */
export type BusEvent<C extends EventContract = EventContract> = { detailType: string; detail: { metadata: EventMetadata; data: z.infer<C['data']> } };

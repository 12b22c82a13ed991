import * as z from 'zod';

/** Bus `source` of every event this service publishes. */
export const SOURCE = 'platform.image-registry';

/** A versioned event contract: detail type, integer version and the zod schema of `data`. */
export type EventContract<T extends z.ZodType = z.ZodType> = {
  readonly detailType: string;
  readonly version: number;
  readonly data: T;
};

export const defineEvent = <T extends z.ZodType>(detailType: string, version: number, data: T): EventContract<T> => ({
  detailType,
  version,
  data,
});

export const EventMetadata = z.object({
  version: z.number().int(),
  id: z.string(),
  correlationId: z.string(),
  occurredAt: z.string(),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

/** The `detail` of every event: `{ metadata, data }`. */
export const EventDetail = z.object({ metadata: EventMetadata, data: z.unknown() });

/** An event ready for the bus. */
export type BusEvent = { detailType: string; detail: { metadata: EventMetadata; data: unknown } };

/** No registry event of this product's world is older than this: anything before is a broken clock or a lie. */
export const EARLIEST_EVENT_TIME = Date.UTC(2000, 0, 1);
/** How far ahead of the service's clock a registry's event time may be (setting `CLOCK_SKEW_SECONDS`). */
export const DEFAULT_CLOCK_SKEW_MS = 300_000;

/**
 * Why an event time from outside (a webhook's `occur_at`/`timestamp`, a listing's push time) cannot be stored, or
 * undefined when it can. Bounded so that every stored time converts to a date and a tag can always be deleted again
 * (a tombstone must be able to beat it).
 */
export const eventTimeProblem = (ms: number, now: number, skewMs: number): string | undefined => {
  if (!Number.isSafeInteger(ms)) return 'is not a valid time';
  if (ms < EARLIEST_EVENT_TIME) return 'is before 2000-01-01';
  if (ms > now + skewMs) return `is more than ${Math.round(skewMs / 1000)} s ahead of the service's clock (${new Date(now).toISOString()}): check the registry's clock`;
  return undefined;
};

/** An epoch-ms time as ISO 8601, or undefined when it is out of the Date range (never throws). */
export const isoTime = (ms: number): string | undefined => {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
};

import * as z from 'zod';

/** Most platforms one tag shows (an index lists more only for attestations and exotic targets). */
export const MAX_PLATFORMS = 16;
const MAX_COUNT = 1_000_000_000;
const PART = /^[a-z0-9][a-z0-9._-]{0,31}$/;

/** `os/architecture[/variant]`, each part lower case, at most 32 characters. */
export const PlatformName = z
  .string()
  .max(100)
  .regex(/^[a-z0-9][a-z0-9._-]{0,31}\/[a-z0-9][a-z0-9._-]{0,31}(?:\/[a-z0-9][a-z0-9._-]{0,31})?$/, 'is not os/architecture[/variant]');

export const ScanSeverity = z.enum(['none', 'unknown', 'low', 'medium', 'high', 'critical']);
export type ScanSeverity = z.infer<typeof ScanSeverity>;
const Count = z.number().int().min(0).max(MAX_COUNT);

/** A vulnerability scan's summary, as Harbor's `scan_overview` tells it (severity lower-cased). */
export const ScanSummary = z.object({
  severity: ScanSeverity.describe('the worst finding; `none`: the scan found nothing'),
  total: Count,
  fixable: Count,
  counts: z.object({ critical: Count, high: Count, medium: Count, low: Count, unknown: Count }),
  scanner: z.string().max(255).optional().describe('the scanner and its version, e.g. `Trivy v0.37.2`'),
  completedAt: z.string().max(64).optional().describe('when the scan ended (ISO 8601)'),
});
export type ScanSummary = z.infer<typeof ScanSummary>;

/**
 * What a tag's digest is, as the listings and webhooks told it (never read from a registry when the selector is
 * read). Every field is optional: absent means not known.
 */
export const TagDetails = z.object({
  size: z
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('bytes: an image manifest’s config and layers; for an index, the sum of its platforms’ images when known'),
  platforms: z
    .array(PlatformName)
    .max(MAX_PLATFORMS)
    .optional()
    .describe('`os/architecture[/variant]`, sorted, distinct, at most 16: an index’s platforms (attestations left out), or a single image’s; empty when read and not known'),
  scan: ScanSummary.optional().describe('Harbor only: the summary of the last vulnerability scan of the digest'),
});
export type TagDetails = z.infer<typeof TagDetails>;

/** An OCI/Docker platform descriptor as registries send it; every field is checked before use. */
export type RawPlatform = { os?: unknown; architecture?: unknown; variant?: unknown };

const part = (v: unknown) => (typeof v === 'string' && PART.test(v.toLowerCase()) ? v.toLowerCase() : undefined);

/** `os/architecture[/variant]` of a descriptor; undefined for attestations (`unknown/unknown`) and for what is not a name. */
export const platformName = (p: RawPlatform | null | undefined): string | undefined => {
  const os = part(p?.os);
  const architecture = part(p?.architecture);
  if (!os || !architecture || (os === 'unknown' && architecture === 'unknown')) return undefined;
  const variant = p?.variant === undefined || p.variant === '' ? undefined : part(p.variant);
  if (p?.variant !== undefined && p.variant !== '' && !variant) return undefined;
  return variant ? `${os}/${architecture}/${variant}` : `${os}/${architecture}`;
};

/** The platforms of descriptors: sorted, distinct, at most `MAX_PLATFORMS` (the first ones in sort order). */
export const platformsOf = (descriptors: readonly (RawPlatform | null | undefined)[]): string[] =>
  [...new Set(descriptors.map(platformName).filter((p): p is string => p !== undefined))].sort().slice(0, MAX_PLATFORMS);

/** The details without their absent fields (so equal details compare equal, and stored items stay small). */
export const compactDetails = (d: TagDetails): TagDetails => ({
  ...(d.size === undefined ? {} : { size: d.size }),
  ...(d.platforms === undefined ? {} : { platforms: d.platforms }),
  ...(d.scan === undefined ? {} : { scan: d.scan }),
});

/** Whether `a` holds every field of `b` with the same value (`b`'s absent fields are not compared). */
export const detailsHold = (a: TagDetails, b: TagDetails) => {
  // Parsed, so both are in the schema's key order whatever order the store gave back.
  const have = TagDetails.parse(compactDetails(a));
  return Object.entries(TagDetails.parse(compactDetails(b))).every(([k, v]) => JSON.stringify(have[k as keyof TagDetails]) === JSON.stringify(v));
};

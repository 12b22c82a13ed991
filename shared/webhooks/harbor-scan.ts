import * as z from 'zod';
import { ScanSeverity, ScanSummary } from '../domain/image-details.ts';

/** The report mime types of Harbor's vulnerability scans (`scan_overview` keys); SBOM and other reports are not read. */
const VULNERABILITY_REPORT = /^application\/vnd\.(?:security\.vulnerability\.report|scanner\.adapter\.vuln\.report\.harbor\+json)(?:;|$)/;
const MAX_REPORTS = 16;
const Count = z.number().int().min(0).max(1_000_000_000);
const Text = z.string().max(128);

/** Harbor's `NativeReportSummary` (swagger), every field bounded. */
const NativeReportSummary = z.object({
  scan_status: Text.optional(),
  severity: Text.optional(),
  summary: z
    .object({ total: Count.optional(), fixable: Count.optional(), summary: z.record(Text, Count).nullish() })
    .nullish()
    .refine((s) => Object.keys(s?.summary ?? {}).length <= MAX_REPORTS, 'has too many severities'),
  end_time: z.iso.datetime({ offset: true }).optional(),
  scanner: z.object({ name: Text.optional(), version: Text.optional() }).nullish(),
});
const ScanOverview = z.record(z.string().max(256), z.unknown()).refine((o) => Object.keys(o).length <= MAX_REPORTS, `has more than ${MAX_REPORTS} reports`);

/** Harbor's severities are capitalised (`Critical`); Clair's old `Negligible` counts as low. */
const severityOf = (raw: string | undefined) => {
  const lower = raw?.toLowerCase();
  return ScanSeverity.safeParse(lower === 'negligible' ? 'low' : lower).data;
};

const toSummary = (r: z.infer<typeof NativeReportSummary>, severity: ScanSeverity): ScanSummary => {
  const counts = Object.fromEntries(Object.entries(r.summary?.summary ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const scanner = [r.scanner?.name, r.scanner?.version].filter(Boolean).join(' ');
  return {
    severity,
    total: r.summary?.total ?? 0,
    fixable: r.summary?.fixable ?? 0,
    counts: { critical: counts.critical ?? 0, high: counts.high ?? 0, medium: counts.medium ?? 0, low: (counts.low ?? 0) + (counts.negligible ?? 0), unknown: counts.unknown ?? 0 },
    ...(scanner ? { scanner } : {}),
    ...(r.end_time ? { completedAt: new Date(Date.parse(r.end_time)).toISOString() } : {}),
  };
};

/**
 * Reads a Harbor `scan_overview` (artifact listing or scan webhook): the vulnerability report's summary when the scan
 * succeeded, `scan: undefined` when there is none (no report, not finished, failed), or the `problem` with it when
 * the overview is not what Harbor's contract says (a webhook refuses it; a listing leaves the scan out).
 */
export const readScanOverview = (raw: unknown): { scan?: ScanSummary; problem?: string } => {
  if (raw === undefined || raw === null) return {};
  const overview = ScanOverview.safeParse(raw);
  if (!overview.success) return { problem: 'scan_overview is not a map of reports' };
  const entry = Object.entries(overview.data).find(([mime]) => VULNERABILITY_REPORT.test(mime));
  if (!entry) return {};
  const report = NativeReportSummary.safeParse(entry[1]);
  if (!report.success) return { problem: `scan_overview report ${JSON.stringify(entry[0].slice(0, 100))}: ${report.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}` };
  if (report.data.scan_status !== 'Success') return {};
  const severity = severityOf(report.data.severity);
  if (!severity) return { problem: `scan_overview severity ${JSON.stringify(String(report.data.severity).slice(0, 40))} is not one of Harbor's` };
  return { scan: toSummary(report.data, severity) };
};

/** The scan of a listed artifact, or undefined (a listing never fails on an annotation). */
export const scanOfOverview = (raw: unknown): ScanSummary | undefined => readScanOverview(raw).scan;

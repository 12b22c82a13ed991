import type { Image, Scan } from '../api.ts';
import { h } from '../dom.ts';

type Details = { size?: number | undefined; platforms?: string[] | undefined; scan?: Scan | undefined };

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** `1.2 MB`: decimal units, as registries and `docker images` show sizes. */
export const humanSize = (bytes: number) => {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 || value >= 100 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
};

/** The findings as a sentence, for screen readers and the tooltip: "critical: 2 critical, 3 high, 0 medium…". */
const scanText = (scan: Scan) => {
  const c = scan.counts;
  const found = `${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low, ${c.unknown} unknown; ${scan.fixable} of ${scan.total} fixable`;
  return `Vulnerability scan: ${scan.severity === 'none' ? 'no findings' : `worst ${scan.severity}`} (${found})${scan.scanner ? `, by ${scan.scanner}` : ''}`;
};

const scanBadge = (scan: Scan) => {
  const text = scanText(scan);
  const short = scan.severity === 'none' ? 'no findings' : scan.severity === 'critical' || scan.severity === 'high' ? `${scan.counts[scan.severity]} ${scan.severity}` : scan.severity;
  return h('span', { class: `badge scan scan-${scan.severity}`, role: 'img', 'aria-label': text, title: text }, short);
};

/** Compact badges of a tag: size, platforms, scan severity (each only when known). */
export const detailBadges = (d: Details) => {
  const platforms = d.platforms ?? [];
  const shownPlatforms = platforms.length > 3 ? `${platforms.slice(0, 2).join(', ')} +${platforms.length - 2}` : platforms.join(', ');
  if (d.size === undefined && !platforms.length && !d.scan) return null;
  return h(
    'span',
    { class: 'details-badges' },
    d.size === undefined ? null : h('span', { class: 'badge size', title: `${d.size} bytes`, 'aria-label': `Size ${humanSize(d.size)}` }, humanSize(d.size)),
    platforms.length ? h('span', { class: 'badge platforms', title: platforms.join(', '), 'aria-label': `Platforms: ${platforms.join(', ')}` }, shownPlatforms) : null,
    d.scan ? scanBadge(d.scan) : null,
  );
};

/** Whether the image's latest tag has critical findings (the filter hides those). */
export const latestIsCritical = (item: Image) => item.latestTag.scan?.severity === 'critical' || (item.latestTag.scan?.counts.critical ?? 0) > 0;

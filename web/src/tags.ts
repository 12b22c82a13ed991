/** Tag ordering and references for the selector page (pure: unit-tested, no DOM). */
export type TagLike = { tag: string; digest: string; pushedAt: string };
export type TagOrder = 'newest' | 'version';

type SemVer = { core: [number, number, number]; pre: (string | number)[] };

// `v1`, `1.27`, `v1.2.3`, `1.27.3-alpine3.19`, `2.0.0-rc.1`; Docker tags have no `+build`.
const SEMVER = /^v?(\d{1,15})(?:\.(\d{1,15}))?(?:\.(\d{1,15}))?(?:-([0-9A-Za-z][0-9A-Za-z.-]*))?$/;

export const parseSemver = (tag: string): SemVer | undefined => {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  const pre = m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return { core: [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)], pre };
};

/** Semver precedence: > 0 when `a` is the higher version. A release outranks its pre-releases. */
export const compareSemver = (a: SemVer, b: SemVer): number => {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return (a.core[i] ?? 0) - (b.core[i] ?? 0);
  if (!a.pre.length || !b.pre.length) return (a.pre.length ? -1 : 0) - (b.pre.length ? -1 : 0);
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number' || typeof y === 'number') return typeof x === 'number' ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
};

/** Higher semver first; semver tags before the others (`latest`, `main`). */
const byVersion = (a: TagLike, b: TagLike) => {
  const va = parseSemver(a.tag);
  const vb = parseSemver(b.tag);
  if (va && vb) return compareSemver(vb, va);
  return va ? -1 : vb ? 1 : 0;
};
const byTime = (a: TagLike, b: TagLike) => Date.parse(b.pushedAt) - Date.parse(a.pushedAt);
const byName = (a: TagLike, b: TagLike) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0);

/**
 * `newest`: newest push first; tags pushed together (one push, many tags) by version, so `1.10.0` comes
 * before `1.9.0` rather than after it. `version`: semver precedence first, then the other tags newest first.
 */
export const sortTags = <T extends TagLike>(tags: readonly T[], order: TagOrder): T[] =>
  [...tags].sort((a, b) => (order === 'newest' ? byTime(a, b) || byVersion(a, b) : byVersion(a, b) || byTime(a, b)) || byName(a, b));

/** The reference to deploy: `image:tag`, or pinned to the digest, `image@sha256:…`. */
export const reference = (image: string, tag: TagLike, pinned: boolean) => (pinned ? `${image}@${tag.digest}` : `${image}:${tag.tag}`);

/** "3 min ago", "2 days ago". */
export const ago = (iso: string, now = Date.now()) => {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  if (!Number.isFinite(seconds)) return '';
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [['year', 31_536_000], ['month', 2_592_000], ['day', 86_400], ['hour', 3600], ['minute', 60]];
  for (const [unit, size] of steps) if (Math.abs(seconds) >= size) return rtf.format(Math.trunc(seconds / size), unit);
  return rtf.format(seconds, 'second');
};

/** `sha256:0123456789ab…` */
export const shortDigest = (digest: string) => {
  const colon = digest.indexOf(':');
  return colon >= 0 && digest.length > colon + 13 ? `${digest.slice(0, colon + 13)}…` : digest;
};

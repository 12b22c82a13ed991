import { randomInt } from 'node:crypto';

/**
 * What this service asks of a Harbor system robot: pull-only on `projects`. `durationDays` is Harbor's
 * `duration`: days from the robot's creation (-1 never expires). At creation that is its life from now; on an
 * update Harbor recomputes `expires_at = creation_time + duration` when it changes, so send the robot's own
 * `duration` to keep its expiry, or `durationToLast(...)` to extend it. `name` is the short name (no `robot$`).
 */
export type RobotSpec = { name: string; description: string; durationDays: number; projects: string[] };

export type HarborRobotAccess = { resource: string; action: string; effect?: string };
export type HarborRobotPermission = { kind: string; namespace: string; access: HarborRobotAccess[] };

/** A robot as Harbor shows it. `name` is Harbor's full name (e.g. `robot$platform-registry-team-a`), the docker login user. */
export type HarborRobot = {
  id: number;
  name: string;
  level: string;
  disabled: boolean;
  description?: string;
  /** unix seconds; -1 never */
  expiresAt?: number;
  /** Days from `creationTime`; -1 never. */
  duration?: number;
  /** ISO 8601 UTC. */
  creationTime?: string;
  permissions: HarborRobotPermission[];
};

/** What `createRobot` answers: the only time Harbor shows a secret it made. `expiresAt` in unix seconds, -1 never. */
export type CreatedHarborRobot = { id: number; name: string; secret: string; expiresAt?: number };

/** The short names this service gives robots: Harbor's own rule for robot names. */
export const ROBOT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Harbor's `duration` limit (a Go int32). */
export const MAX_ROBOT_DURATION_DAYS = 2_147_483_646;

const PULL_ACCESS: readonly HarborRobotAccess[] = [
  { resource: 'repository', action: 'pull' },
  { resource: 'artifact', action: 'read' },
];

/** The exact permissions of a pull-only robot on `projects` (sorted, deduplicated). */
export const pullPermissions = (projects: readonly string[]): HarborRobotPermission[] =>
  [...new Set(projects)].sort().map((namespace) => ({ kind: 'project', namespace, access: PULL_ACCESS.map((a) => ({ ...a })) }));

const accessKey = (a: HarborRobotAccess) => `${a.resource}:${a.action}`;

/**
 * Whether `robot` grants exactly `pullPermissions(projects)` and nothing else, and is enabled: an extra action, an
 * extra or missing project, another kind, a `*` anywhere, or a deny effect is no match.
 */
export const robotMatches = (robot: HarborRobot, projects: readonly string[]): boolean => {
  if (robot.disabled) return false;
  const wanted = pullPermissions(projects);
  const wantedAccess = [...new Set(PULL_ACCESS.map(accessKey))].sort().join(',');
  const byNamespace = new Map<string, Set<string>>();
  for (const p of robot.permissions) {
    if (p.kind !== 'project' || p.namespace === '*') return false;
    const keys = byNamespace.get(p.namespace) ?? new Set<string>();
    for (const a of p.access) {
      if (a.effect !== undefined && a.effect !== '' && a.effect !== 'allow') return false;
      keys.add(accessKey(a));
    }
    byNamespace.set(p.namespace, keys);
  }
  if (byNamespace.size !== wanted.length) return false;
  return wanted.every((w) => [...(byNamespace.get(w.namespace) ?? [])].sort().join(',') === wantedAccess);
};

const DAY_MS = 86_400_000;

/**
 * The `duration` that makes a robot created at `creationTime` last at least `days` more from `nowMs` (whole days
 * since its creation, rounded up, plus `days`); -1 for `days` -1 (never expires). Throws a `RangeError` when
 * `creationTime` is not a time or `days` is neither -1 nor a positive whole number.
 */
export const durationToLast = (creationTime: string, nowMs: number, days: number): number => {
  if (days === -1) return -1;
  if (!Number.isInteger(days) || days < 1 || days > MAX_ROBOT_DURATION_DAYS) throw new RangeError(`robot days must be -1 or 1-${MAX_ROBOT_DURATION_DAYS}, not ${days}`);
  const created = Date.parse(creationTime);
  if (!Number.isFinite(created)) throw new RangeError('the robot has no valid creation time: its duration cannot be computed');
  // A creation time ahead of our clock (skew) counts as now.
  const elapsedDays = Math.max(0, Math.ceil((nowMs - created) / DAY_MS));
  return Math.min(elapsedDays + days, MAX_ROBOT_DURATION_DAYS);
};

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const SECRET_ALPHABET = UPPER + LOWER + DIGITS;
const hasAllClasses = (s: string) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /\d/.test(s);

/** A robot secret of `length` (default 32) characters, uniformly random over A-Z a-z 0-9, holding one of each (Harbor's rule). */
export const newRobotSecret = (length = 32): string => {
  for (;;) {
    const secret = Array.from({ length }, () => SECRET_ALPHABET[randomInt(SECRET_ALPHABET.length)]).join('');
    if (hasAllClasses(secret)) return secret;
  }
};

/** How this service names and ages the Harbor robots it keeps (settings `ROBOT_NAME_PREFIX`, `ROBOT_DURATION_DAYS`). */
export type PullAccessSettings = {
  /**
   * A robot is named `<prefix>.<workspaceId>` (Harbor shows `robot$<prefix>.<workspaceId>`); one prefix per service
   * instance. The prefix holds no `.`, so no instance's robots look like another's (`a.x` vs `a-b.x`).
   */
  robotPrefix: string;
  /** A robot's lifetime; it is rotated (new secret, life extended) when less than a third of it is left. */
  robotDays: number;
};

export const DEFAULT_PULL_ACCESS: PullAccessSettings = { robotPrefix: 'platform-registry', robotDays: 90 };

/** Harbor's robot name rule without `.` and `_`: the `.` separates the prefix from the workspace id. */
export const ROBOT_PREFIX_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

export const robotNameOf = (settings: PullAccessSettings, workspaceId: string) => `${settings.robotPrefix}.${workspaceId}`;

const DAY_MS = 86_400_000;

/** Whether a robot expiring at `expiresAt` (unix seconds, -1 never) is due for rotation at `nowMs`. */
export const rotationDue = (settings: PullAccessSettings, expiresAt: number | undefined, nowMs: number) =>
  expiresAt !== undefined && expiresAt !== -1 && expiresAt * 1000 - nowMs < (settings.robotDays * DAY_MS) / 3;

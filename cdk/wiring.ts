import { Duration } from 'aws-cdk-lib';
import { SOURCE } from '../events/contract.ts';
import type { Rule, Schedule } from '../shared/topology.ts';

/** API Gateway's route key of a route: `GET /api/v1/...`. */
export const routeKey = (route: { method: string; path: string }) => `${route.method} ${route.path}`;

/** The EventBridge pattern of a bus rule, as EventBridge stores it: the service's source and the rule's detail types. */
export const eventPatternOf = (rule: Rule) => ({ source: [SOURCE], 'detail-type': [...rule.detailTypes] });

/** EventBridge Scheduler's rate of a schedule; its granularity is one minute, so anything else is refused. */
export const rateOf = (schedule: Schedule): Duration => {
  if (!Number.isInteger(schedule.everySeconds) || schedule.everySeconds < 60 || schedule.everySeconds % 60 !== 0)
    throw new Error(`schedule ${schedule.name}: every ${schedule.everySeconds} s is not a whole number of minutes (EventBridge Scheduler's granularity)`);
  return Duration.minutes(schedule.everySeconds / 60);
};

/** `list-images` → `ListImages` (construct ids). */
export const pascal = (name: string) => name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());

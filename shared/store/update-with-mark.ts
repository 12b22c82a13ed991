import type { BusEvent } from '../../events/contract.ts';
import { pendingMark } from './pending.ts';

/**
 * Builds an UpdateItem that SETs `fields` together with the pending-index mark of `event`,
 * so the change and its mark land in one single-item write.
 */
export const setWithMark = (
  fields: Record<string, unknown>,
  event: BusEvent,
  condition: string,
  extra: { values?: Record<string, unknown>; names?: Record<string, string>; remove?: readonly string[] } = {},
) => {
  const all = { ...fields, ...pendingMark(event) };
  const names: Record<string, string> = { ...extra.names };
  const values: Record<string, unknown> = { ...extra.values };
  const sets = Object.entries(all).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  const removes = (extra.remove ?? []).map((name, i) => {
    names[`#r${i}`] = name;
    return `#r${i}`;
  });
  return {
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', 'fixtures');

/** A fixture as parsed JSON (`harbor/push_artifact.default.json`). */
export const fixture = (name: string): unknown => JSON.parse(readFileSync(join(root, name), 'utf8'));
/** A fixture's raw bytes, for posting exactly what the registry sent. */
export const rawFixture = (name: string): string => readFileSync(join(root, name), 'utf8');

import { runSelectorBench } from './selector.ts';

/** `npm run bench`: prints the numbers the closing notes quote. Not a test: nothing here asserts a time. */
const log = (line: string) => console.log(`[bench] ${line}`);
log(`node ${process.version}, ${new Date().toISOString()}`);
await runSelectorBench(log);

import { describeModelProperty } from '../helpers/model-property.ts';

// Half of the MODEL_RUNS (default 300) sequences, each with 4 concurrent indexer workers and a delay at every store call; the other half runs in the other file.
describeModelProperty('part 2 of 2', Math.ceil(Number(process.env.MODEL_RUNS ?? 300) / 2));

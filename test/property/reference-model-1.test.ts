import { describeModelProperty } from '../helpers/model-property.ts';

// Half of the MODEL_RUNS (default 1000) sequences; the other half runs in parallel in the other file.
describeModelProperty('part 1 of 2', Math.ceil(Number(process.env.MODEL_RUNS ?? 1000) / 2));

import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_LIST } from '../../shared/topology.ts';
import { formatReport, formatRequest, runFuzz, type Finding, type FuzzReport } from '../fuzz/harness.ts';

// `npm run fuzz` sends 10,000 (FUZZ_RUNS); CI a smaller, fixed-seed share of the same generators.
const RUNS = Number(process.env.FUZZ_CI_RUNS ?? 1_500);
const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201);

const show = (findings: Finding[]) => findings.map((f) => `[${f.kind}] ${f.signature} (${f.count}×)\n${formatRequest(f.request)}\n  ${f.detail.slice(0, 600)}`);

describe('the running service under fuzz (fast-check): generated requests over every route', () => {
  let report: FuzzReport;
  beforeAll(async () => {
    report = await runFuzz({ runs: RUNS, seed: SEED, shrinkRuns: 40, maxShrunk: 8 });
    console.log(formatReport(report));
  }, 240_000);

  it(`sends ${RUNS} generated requests, to every route of ROUTE_LIST`, () => {
    expect(report.requests).toBeGreaterThanOrEqual(RUNS);
    expect(ROUTE_LIST.filter((r) => !report.perRoute[`${r.method} ${r.path}`]).map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('answers every request below 500, in time, and the process stays up', () => {
    expect(show(report.findings.filter((f) => f.kind === '5xx' || f.kind === 'no answer' || f.kind === 'crash'))).toEqual([]);
    expect({ atLeast500: report.atLeast500, unanswered: report.noAnswer, crashes: report.crashes, alive: report.alive }).toEqual({ atLeast500: 0, unanswered: 0, crashes: 0, alive: true });
  });

  it("gets past the admission route's door: reviews answered 200 allowed and refused, odd ones 400", () => {
    expect(report.admissionVerdicts.allowed).toBeGreaterThan(0);
    expect(report.admissionVerdicts.refused).toBeGreaterThan(0);
    expect(report.admissionVerdicts.unreadable).toBe(0);
    expect(report.statusesByRoute['POST /admission/clusters/{cluster}']?.['400'] ?? 0).toBeGreaterThan(0);
  });

  it('lets no rejected request add, change or remove an item of the store', () => {
    // Enough rejected requests to mean something (an unreadable AdmissionReview object is answered 200, refused, not 4xx).
    expect(report.rejectedWatched).toBeGreaterThan(RUNS * 0.4);
    expect(show(report.findings.filter((f) => f.kind === 'store change' || f.kind === 'accepted without credentials'))).toEqual([]);
    expect(report.rejectedChangedStore).toBe(0);
  });
});

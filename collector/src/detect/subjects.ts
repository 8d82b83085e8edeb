import { describeSubject, round, type Detection } from './types.js';

/** How far above its baseline a detection is, in one unit for all the detections of a kind. */
type Measure = (d: Detection) => number;

const mostOfTheRise = (folded: string): string => `It accounts for most of the rise of ${folded}.`;

/**
 * One incident, one alert, at the most specific subject that explains it: a runaway user makes
 * its model, its service and the whole project spend more too, but the user is the news. A
 * broader detection whose excess is mostly (≥ `share`) the excess of a more specific one is
 * folded into it as a contributor in its evidence instead of being a separate alert.
 *
 * `rank`: higher is more specific.
 */
export function foldIntoMostSpecific(
  detections: readonly Detection[],
  rank: (d: Detection) => number,
  excess: Measure,
  share = 0.5,
  note: (folded: string) => string = mostOfTheRise,
): Detection[] {
  return fold(detections, rank, excess, (k, d) => excess(k) >= share * excess(d), note);
}

/**
 * Like `foldIntoMostSpecific`, for detections that are slices of one total (cost per user, prompt,
 * model, service of a project). A slice explains a broader detection only when it carries most
 * of its rise (≥ `share`) and rose clearly more, relative to its own baseline, than the broader
 * one did (≥ `concentration` ×): a burst spread over every user and prompt lifts each in
 * proportion, and is then the project's news, with the slices that fired as contributors. A
 * `whole` slice (the only model of the project) is the same traffic under a more specific name.
 */
export function foldByConcentration(
  detections: readonly Detection[],
  rank: (d: Detection) => number,
  measures: { excess: Measure; baseline: Measure; whole: (d: Detection) => boolean },
  share = 0.5,
  concentration = 1.5,
): Detection[] {
  const { excess, baseline, whole } = measures;
  const relativeRise = (d: Detection) => {
    const b = baseline(d);
    return b > 0 ? excess(d) / b : Number.POSITIVE_INFINITY;
  };
  const explains = (k: Detection, d: Detection) =>
    excess(k) >= share * excess(d) && (whole(k) || relativeRise(k) >= concentration * relativeRise(d));
  const bySpecific = fold(detections, rank, excess, explains, mostOfTheRise);
  // What is left, per project: slices that explain nothing broader rose with the broadest kept
  // detection, and become its contributors.
  const out: Detection[] = [];
  const projects = new Map<string, Detection[]>();
  for (const d of bySpecific) projects.set(d.project, [...(projects.get(d.project) ?? []), d]);
  for (const ds of projects.values()) {
    const broadest = ds.reduce((a, b) => (rank(b) < rank(a) ? b : a));
    const alike = ds.filter(
      (s) => rank(s) > rank(broadest) && excess(s) <= excess(broadest) && !explains(s, broadest),
    );
    if (alike.length === 0) {
      out.push(...ds);
      continue;
    }
    out.push(
      ...ds.filter((d) => !alike.includes(d) && d !== broadest),
      withContributors(
        broadest,
        alike,
        (f) => excess(f) / Math.max(excess(broadest), 1e-12),
        (folded) => `It rose across ${folded} alike.`,
      ),
    );
  }
  return out;
}

function fold(
  detections: readonly Detection[],
  rank: (d: Detection) => number,
  excess: Measure,
  explains: (specific: Detection, broader: Detection) => boolean,
  note: (folded: string) => string,
): Detection[] {
  const ordered = [...detections].sort((a, b) => rank(b) - rank(a));
  const kept: Detection[] = [];
  const broader = new Map<Detection, Detection[]>();
  for (const d of ordered) {
    const owner = kept.find((k) => k.project === d.project && rank(k) > rank(d) && explains(k, d));
    if (!owner) {
      kept.push(d);
      continue;
    }
    broader.set(owner, [...(broader.get(owner) ?? []), d]);
  }
  return kept.map((k) => {
    const folded = broader.get(k);
    return folded ? withContributors(k, folded, (f) => excess(k) / Math.max(excess(f), 1e-12), note) : k;
  });
}

/**
 * `owner` with `folded` listed as contributors in its evidence; `shareOfExcess` is the part of the
 * broader one's rise the more specific one carries.
 */
function withContributors(
  owner: Detection,
  folded: readonly Detection[],
  shareOfExcess: (f: Detection) => number,
  note: (folded: string) => string,
): Detection {
  const own = (owner.evidence.contributors as unknown[] | undefined) ?? [];
  return {
    ...owner,
    message: `${owner.message} ${note(folded.map((f) => describeSubject(f.subject)).join(', '))}`,
    evidence: {
      ...owner.evidence,
      contributors: [
        ...own,
        ...folded.map((f) => ({
          rule: f.rule,
          subject: f.subject,
          observed: f.observed,
          baseline: f.baseline,
          shareOfExcess: round(shareOfExcess(f), 3),
        })),
      ],
    },
  };
}

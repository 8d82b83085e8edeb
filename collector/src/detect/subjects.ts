import { describeSubject, round, type Detection } from './types.js';

/**
 * One incident, one alert, at the most specific subject that explains it: a runaway user makes
 * its model, its service and the whole project spend more too, but the user is the news. A
 * broader detection whose excess is mostly (≥ `share`) the excess of a more specific one is
 * folded into it as a contributor in its evidence instead of being a separate alert.
 *
 * `rank`: higher is more specific. `excess`: how far above its baseline a detection is, in one
 * unit for all the detections of a kind.
 */
export function foldIntoMostSpecific(
  detections: readonly Detection[],
  rank: (d: Detection) => number,
  excess: (d: Detection) => number,
  share = 0.5,
  note: (folded: string) => string = (folded) => `It accounts for most of the rise of ${folded}.`,
): Detection[] {
  const ordered = [...detections].sort((a, b) => rank(b) - rank(a));
  const kept: Detection[] = [];
  const broader = new Map<Detection, Detection[]>();
  for (const d of ordered) {
    const owner = kept.find(
      (k) => k.project === d.project && rank(k) > rank(d) && excess(k) >= share * excess(d),
    );
    if (!owner) {
      kept.push(d);
      continue;
    }
    broader.set(owner, [...(broader.get(owner) ?? []), d]);
  }
  return kept.map((k) => {
    const folded = broader.get(k);
    if (!folded) return k;
    return {
      ...k,
      message: `${k.message} ${note(folded.map((f) => describeSubject(f.subject)).join(', '))}`,
      evidence: {
        ...k.evidence,
        contributors: folded.map((f) => ({
          rule: f.rule,
          subject: f.subject,
          observed: f.observed,
          baseline: f.baseline,
          shareOfExcess: round(excess(k) / Math.max(excess(f), 1e-12), 3),
        })),
      },
    };
  });
}

/** What every `bench/<name>.ts` returns from `run()`. */
export interface BenchResult {
  name: string;
  /** A markdown section (heading + table) for bench/results/latest.md and the terminal. */
  markdown: string;
  /** Raw numbers, written as JSON next to the markdown. */
  data: unknown;
}

export type BenchModule = { run: (options?: { quick?: boolean }) => Promise<BenchResult> };

// The files of a run directory that depend on its modality (run-dir.ts writes them; image-run-dir.ts and
// text-run-dir.ts make them).

/** What a modality puts in its run directory besides metrics.json. */
export interface RunDirFiles {
  /** config.json's settings (after the versions). */
  config: object;
  historyCsv: string;
  curvesSvg: string;
  reportHtml: string;
  /** Files of its own, written by `write` at their path. */
  extra: { name: string; write(path: string): Promise<void> | void }[];
}

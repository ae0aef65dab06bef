// What a modality's flags become in `gradleak attack` (image-attack.ts, text-attack.ts): the job, where it is
// written, its name on the progress bar, and what the command prints when it is done.
import type { AttackJob } from '../run/attack-job.js';
import type { RunMetrics } from '../scoring/run-metrics.js';

export interface ParsedAttack {
  job: AttackJob;
  out: string;
  label: string;
  describe(m: RunMetrics): string[];
}

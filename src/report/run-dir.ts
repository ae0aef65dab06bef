// Writes a run directory of any modality (docs/design.md, section 8): config.json (everything needed to rerun,
// versions included), metrics.json (scoring/metrics-schema.ts), history.csv, curves.svg and report.html, and the
// modality's own files (image: snapshots.png; text: recovered.txt). Everything except metrics.seconds is a function
// of the run's config.
import { join } from 'node:path';
import { prepareOutDir, writeText } from '../util/files.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import type { ModalityName } from '../scoring/run-metrics.js';
import type { AttackJob, OutcomeOf } from '../run/attack-job.js';
import { metricsJson } from './run-files.js';
import { imageRunFiles } from './image-run-dir.js';
import { textRunFiles } from './text-run-dir.js';
import type { RunDirFiles } from './run-dir-files.js';

type Files<J extends AttackJob> = (job: J, o: OutcomeOf<J>) => RunDirFiles;
const FILES: { [M in ModalityName]: Files<Extract<AttackJob, { modality: M }>> } = { image: imageRunFiles, text: textRunFiles };

export async function writeRunDir<J extends AttackJob>(dir: string, job: J, o: OutcomeOf<J>): Promise<void> {
  const f = (FILES[job.modality] as unknown as Files<J>)(job, o);
  prepareOutDir(dir);
  writeText(join(dir, 'config.json'), JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, ...f.config }, null, 2) + '\n');
  writeText(join(dir, 'metrics.json'), metricsJson(o));
  writeText(join(dir, 'history.csv'), f.historyCsv);
  for (const e of f.extra) await e.write(join(dir, e.name));
  writeText(join(dir, 'curves.svg'), f.curvesSvg);
  writeText(join(dir, 'report.html'), f.reportHtml);
}

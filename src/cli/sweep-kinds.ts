// What `gradleak sweep` does differently for each modality of data, in one table: how its config is completed and
// its examples checked before any job runs, how its results become cells and report pages, and its terminal table.
// The sweep's modality is its dataset's (text datasets: text/registry.ts; every other dataset holds images).
import type { ImageSweepConfig, SweepConfig, TextSweepConfig } from '../sweep/config.js';
import { isImageResult, isTextResult, type SweepResult } from '../sweep/job.js';
import { summarise, type CellSummary } from '../sweep/summary.js';
import { summariseText, type TextCellSummary } from '../sweep/text-summary.js';
import { pct, writeSweepOutputs, type SweepRunInfo } from '../report/sweep-report.js';
import { writeTextSweepOutputs } from '../report/text-sweep-report.js';
import { decodeIds } from '../text/vocabulary.js';
import { isTextDataset } from '../text/registry.js';
import type { ModalityName } from '../scoring/run-metrics.js';
import { DEFAULT_IMAGE_SHAPE, openDataset } from '../data/open.js';
import { dataRoot } from '../data/locate.js';
import { UserError } from '../util/errors.js';
import { formatTable } from './table.js';
import { checkSweepModels } from '../sweep/model-check.js';
import { worstCaseCsv, worstCases } from '../sweep/worst-case.js';
import { writeText } from '../util/files.js';
import { join } from 'node:path';

/** The cells of an image or a text sweep. */
export type SweepCells = { kind: 'image'; cells: CellSummary[] } | { kind: 'text'; cells: TextCellSummary[] };

interface SweepKind<C extends SweepConfig> {
  /**
   * The config to run (data root filled in), its examples and models checked: before --out is made, so a bad index or
   * model leaves nothing behind. `source` (the config file) starts the messages that name a key.
   */
  prepare(c: C, source: string): Promise<C>;
  /** The grid's results as cells, with the report's outputs written to `out`. */
  finish(out: string, c: C, results: readonly SweepResult[], info: SweepRunInfo): Promise<{ summary: SweepCells; html: string }>;
}

const KINDS: { image: SweepKind<ImageSweepConfig>; text: SweepKind<TextSweepConfig> } = {
  image: {
    async prepare(config, source) {
      // the data root of cifar10, cifar100, lfw: the config's, else $GRADLEAK_DATA, else the default (not part of job keys)
      const c = config.dataset !== 'mnist' && config.dataRoot === undefined ? { ...config, dataRoot: dataRoot().root } : config;
      const data = await openDataset(c.dataset, c.split, { root: c.dataRoot ?? '', shape: DEFAULT_IMAGE_SHAPE });
      try {
        const bad = c.images.find((i) => i >= data.count);
        if (bad !== undefined) throw new UserError(`images: index ${bad} out of range: ${c.dataset} ${c.split} has ${data.count} images (0..${data.count - 1})`);
        checkSweepModels(c, data, source);
      } finally {
        data.close?.();
      }
      return c;
    },
    async finish(out, c, results, info) {
      const images = results.filter(isImageResult), cells = summarise(images);
      writeText(join(out, 'worst-case.csv'), worstCaseCsv(worstCases(images)));
      return { summary: { kind: 'image', cells }, html: (await writeSweepOutputs(out, c, cells, info)).html };
    },
  },
  text: {
    prepare: async (c) => c, // its sentences were checked with its config
    async finish(out, c, results, info) {
      const texts = results.filter(isTextResult), cells = summariseText(texts);
      return { summary: { kind: 'text', cells }, html: (await writeTextSweepOutputs(out, c, cells, info, texts, decodeIds)).html };
    },
  },
};

export function sweepModality(c: SweepConfig): ModalityName {
  return isTextDataset(c.dataset) ? 'text' : 'image';
}

export function sweepKind(c: SweepConfig): SweepKind<SweepConfig> {
  return KINDS[sweepModality(c)] as unknown as SweepKind<SweepConfig>;
}

/** The summary's table on the terminal. */
export function cellsTable(s: SweepCells): string {
  const head = ['attack', 'protocol', 'defense', 'strength', 'restarts'];
  const named = (x: CellSummary | TextCellSummary) => [x.attack, x.protocol, x.defense, String(x.strength), String(x.restarts)];
  if (s.kind === 'text') {
    return formatTable([...head, 'exact', 'token accuracy', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L'], s.cells.map((x) => [
      ...named(x), `${x.exact}/${x.runs}`, pct(x.meanTokenAccuracy), x.meanRouge1.toFixed(3), x.meanRouge2.toFixed(3), x.meanRougeL.toFixed(3),
    ]));
  }
  return formatTable(
    [...head, 'success', 'labels', 'median PSNR', 'median SSIM'],
    s.cells.map((x) => [...named(x), `${x.success}/${x.runs}`, pct(x.labelAccuracy), x.medianPsnr.toFixed(1), x.medianSsim.toFixed(3)]),
  );
}

// The report of a text sweep: the sweep report (sweep-report.ts) on text cells, whose measures are the mean token
// accuracy and ROUGE of the recovered sentences, and how many were recovered exactly.
import { TEXT_ITERATIONS } from '../text/text-attacks.js';
import { escapeXml } from './svg.js';
import { num, pct, rangeText, writeCellReport, type CellView, type SweepPlot, type SweepRunInfo } from './sweep-report.js';
import type { TextSweepConfig } from '../sweep/config.js';
import { TEXT_MODEL } from '../sweep/text-config.js';
import { textSummaryCsv, type TextCellSummary } from '../sweep/text-summary.js';

const TEXT_VIEW: CellView<TextCellSummary> = {
  panels: [
    { title: 'token accuracy', yLabel: 'mean token accuracy', y: (c) => c.meanTokenAccuracy, rate: true },
    { title: 'ROUGE-L', yLabel: 'mean ROUGE-L F1', y: (c) => c.meanRougeL, rate: true },
  ],
  plotCaption: 'Mean token accuracy and mean ROUGE-L',
  plotAlt: 'token accuracy and ROUGE-L',
  finding(lo, hi, b) {
    const baseline = b ? ` (no defense: token accuracy ${pct(b.meanTokenAccuracy)}, ROUGE-L ${num(b.meanRougeL, 3)})` : '';
    if (lo === hi) return `mean token accuracy ${pct(lo.meanTokenAccuracy)}, ROUGE-L ${num(lo.meanRougeL, 3)}, ${lo.exact}/${lo.runs} recovered exactly${baseline}.`;
    return `mean token accuracy ${pct(lo.meanTokenAccuracy)} at strength ${lo.strength}, ${pct(hi.meanTokenAccuracy)} at ${hi.strength}; `
      + `ROUGE-L ${num(lo.meanRougeL, 3)} to ${num(hi.meanRougeL, 3)}; exact ${lo.exact}/${lo.runs} to ${hi.exact}/${hi.runs}${baseline}.`;
  },
  csv: textSummaryCsv,
  tableHead: ['exact', 'token accuracy', 'ROUGE-1', 'ROUGE-2', 'ROUGE-L', 's / run'],
  tableRow: (x) => [`${x.exact}/${x.runs}`, pct(x.meanTokenAccuracy), num(x.meanRouge1, 3), num(x.meanRouge2, 3), num(x.meanRougeL, 3), num(x.meanSeconds, 2)],
};

/** The outputs of a text sweep: summary.csv, plot-<defense>.svg, report.html. */
export function writeTextSweepOutputs(dir: string, c: TextSweepConfig, cells: readonly TextCellSummary[], info: SweepRunInfo): Promise<{ html: string; plots: SweepPlot[] }> {
  const what = `${info.total} jobs: attacks ${c.attacks.map(escapeXml).join(', ')} on ${TEXT_MODEL}, text sentences ${escapeXml(rangeText(c.sentences))}
(${c.sentences.length}) x dummy seeds ${escapeXml(rangeText(c.seeds))} (${c.seeds.length}), restarts ${c.restarts.join(', ')}, ${c.iterations !== undefined ? `${c.iterations} iterations` : `each attack's default iterations (${c.attacks.map((a) => `${a} ${TEXT_ITERATIONS[a]}`).join(', ')})`}, ${c.precision}.
Each cell: the means over its runs of the token accuracy (the share of positions recovered) and the ROUGE-1/2/L F1 of the recovered
sentence against the true one; exact = every token recovered.`;
  return writeCellReport(dir, TEXT_VIEW, cells, { what, pointOver: `${c.sentences.length} sentence(s) x ${c.seeds.length} seed(s)` }, info);
}

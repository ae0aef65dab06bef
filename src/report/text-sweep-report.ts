// The report of a text sweep: the sweep report (sweep-report.ts) on text cells, whose measures are the mean token
// accuracy and ROUGE of the recovered sentences, and how many were recovered exactly.
import { TEXT_ITERATIONS } from '../text/text-attacks.js';
import { escapeXml } from './svg.js';
import { headCells, num, pct, rangeText, writeCellReport, type CellView, type SweepPlot, type SweepRunInfo } from './sweep-report.js';
import { htmlBlock } from './report.js';
import { MARK_STYLE, markedSentence } from './text-run-dir.js';
import type { Decode } from '../run/text-run.js';
import type { TextResult } from '../sweep/job.js';
import { groupCells } from '../sweep/summary.js';
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

/** The sentences shown recovered in the report, at most (each is one table: a row per cell). */
const SHOWN_SENTENCES = 5;

/**
 * The recovered sentences of the first SHOWN_SENTENCES sentences at the first seed: per sentence its true text and,
 * for every cell, what the attack recovered, each token marked as in a run's report (in place, elsewhere, wrong).
 */
export function recoveredSentencesHtml(c: TextSweepConfig, results: readonly TextResult[], piece: Decode): string {
  const seed = c.seeds[0], shown = c.sentences.slice(0, SHOWN_SENTENCES), cells = groupCells(results);
  const tables = shown.map((sentence) => {
    const of = (rs: readonly TextResult[]) => rs.find((r) => r.job.sentence === sentence && r.job.seed === seed);
    const first = of(results);
    if (!first) return '';
    const truth = first.metrics.true_tokens[0];
    const rows = cells.map(({ head, results: rs }) => {
      const r = of(rs);
      return r ? `<tr>${headCells(head).map((h) => `<td>${h}</td>`).join('')}<td><div class="s">${markedSentence(r.metrics.recovered_tokens[0], truth, piece)}</div></td></tr>` : '';
    });
    return `<h3>Sentence ${sentence}: <span class="truth">${escapeXml(first.metrics.true_text[0])}</span></h3>
<table><tr><th>attack</th><th>protocol</th><th>defense</th><th>strength</th><th>restarts</th><th>recovered</th></tr>
${rows.join('\n')}
</table>`;
  });
  const more = c.sentences.length > shown.length ? ` (the first ${shown.length} of ${c.sentences.length}; results.jsonl has every one)` : '';
  return `<h2>Recovered sentences</h2>
<style>${MARK_STYLE}</style>
<p>Dummy seed ${seed}${more}. Tokens: <span class="hit">in place</span> <span class="near">in the sentence elsewhere</span> <span class="miss">not in it</span>.</p>
${tables.join('\n')}`;
}

/** The outputs of a text sweep: summary.csv, plot-<defense>.svg, report.html (with the recovered sentences). */
export function writeTextSweepOutputs(
  dir: string, c: TextSweepConfig, cells: readonly TextCellSummary[], info: SweepRunInfo, results: readonly TextResult[], piece: Decode,
): Promise<{ html: string; plots: SweepPlot[] }> {
  const what = `${info.total} jobs: attacks ${c.attacks.map(escapeXml).join(', ')} on ${TEXT_MODEL}, text sentences ${escapeXml(rangeText(c.sentences))}
(${c.sentences.length}) x dummy seeds ${escapeXml(rangeText(c.seeds))} (${c.seeds.length}), restarts ${c.restarts.join(', ')}, ${c.iterations !== undefined ? `${c.iterations} iterations` : `each attack's default iterations (${c.attacks.map((a) => `${a} ${TEXT_ITERATIONS[a]}`).join(', ')})`}, ${c.precision}.
Each cell: the means over its runs of the token accuracy (the share of positions recovered) and the ROUGE-1/2/L F1 of the recovered
sentence against the true one; exact = every token recovered.`;
  const recovered = htmlBlock(recoveredSentencesHtml(c, results, piece));
  return writeCellReport(dir, TEXT_VIEW, cells, { what, pointOver: `${c.sentences.length} sentence(s) x ${c.seeds.length} seed(s)` }, info, [recovered]);
}

// The files of a text run's directory: history.csv (objective and token scores per logged iteration), curves.svg,
// recovered.txt and report.html, which shows the true sentences and the recovery at snapshots, each recovered token
// marked: in place (the true token at that position), in the sentence elsewhere, or wrong; run-dir.ts writes them
// with config.json and metrics.json.
import { writeText } from '../util/files.js';
import { alignSentences } from '../scoring/text-metrics.js';
import type { Decode, TextHistoryRow, TextOutcome } from '../run/text-run.js';
import type { TextAttackJob } from '../run/attack-job.js';
import { decodeIds } from '../text/vocabulary.js';
import { escapeXml, panelsSvg } from './svg.js';
import { csvOf, evenlySpread, MAX_SNAPSHOT_COLUMNS } from './run-files.js';
import type { RunDirFiles } from './run-dir-files.js';

const HISTORY_COLUMNS: (keyof TextHistoryRow & string)[] = ['iteration', 'evaluations', 'objective', 'tokenAccuracy', 'rouge1', 'rouge2', 'rougeL'];

export function textRunFiles(job: TextAttackJob, o: TextOutcome): RunDirFiles {
  const { dataset, indices } = job.batch;
  return {
    config: { dataset, indices, ...(job.weightsFile ? { weightsFile: job.weightsFile } : {}), ...o.config },
    historyCsv: csvOf(HISTORY_COLUMNS, o.history),
    curvesSvg: textCurvesSvg(o),
    reportHtml: textReportHtml(o, decodeIds),
    extra: [{ name: 'recovered.txt', write: (path) => writeText(path, o.metrics.recovered_text.join('\n') + '\n') }],
  };
}

export function textCurvesSvg(o: TextOutcome): string {
  const name = o.config.attack.toUpperCase();
  const series = (key: keyof TextHistoryRow) => [{ name, points: o.history.map((h) => [h.iteration, h[key]] as [number, number]) }];
  return panelsSvg([
    { title: 'Gradient distance', xLabel: 'iteration', yLabel: 'objective D', logY: true, series: series('objective') },
    { title: 'Recovered tokens', xLabel: 'iteration', yLabel: 'token accuracy', series: series('tokenAccuracy') },
  ]);
}

/** The styles of markedSentence's classes, and of sentences (.s) and true sentences (.truth) on a page. */
export const MARK_STYLE = '.s{font-family:monospace;white-space:pre-wrap;margin:2px 0}.hit{background:#b7e4b0}.near{background:#fde9a8}.miss{color:#a33}.truth{font-family:monospace;white-space:pre-wrap}';

/** A recovered sentence as HTML, token by token: class "hit" (the true token there), "near" (in the sentence elsewhere), "miss". */
export function markedSentence(recovered: readonly number[], truth: readonly number[], piece: Decode): string {
  return recovered.map((t, i) => {
    const cls = truth[i] === t ? 'hit' : truth.includes(t) ? 'near' : 'miss';
    return `<span class="${cls}">${escapeXml(piece([t]))}</span>`;
  }).join('');
}

function textReportHtml(o: TextOutcome, piece: Decode): string {
  const m = o.metrics, truth = m.true_tokens;
  const row = (label: string, sentences: number[][]) => {
    const order = alignSentences(sentences, truth); // order[i]: the recovered sentence set against true sentence i
    return `<tr><th>${escapeXml(label)}</th><td>${truth.map((t, i) => `<div class="s">${markedSentence(sentences[order[i]], t, piece)}</div>`).join('')}</td></tr>`;
  };
  const shown = evenlySpread(o.snapshots.length, MAX_SNAPSHOT_COLUMNS).map((i) => o.snapshots[i]);
  const scalar = Object.entries(m).filter(([, v]) => typeof v !== 'object');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>gradleak: ${escapeXml(m.attack)} on ${escapeXml(m.dataset)} #${m.index}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}th,td{padding:3px 10px;text-align:left;border-bottom:1px solid #ddd;vertical-align:top}
${MARK_STYLE}img{max-width:100%}</style>
</head><body>
<h1>${escapeXml(m.attack.toUpperCase())} on ${escapeXml(m.model)}: ${escapeXml(m.dataset)} #${m.index}${m.batch_size > 1 ? ` (batch of ${m.batch_size})` : ''}, dummy seed ${m.seed}</h1>
${m.interrupted ? '<p><strong>Interrupted: the outputs show the run up to its last logged iteration.</strong></p>' : ''}
<p>Token accuracy ${(100 * m.tokenAccuracy).toFixed(1)}%, ROUGE-1 ${m.rouge1.toFixed(3)}, ROUGE-2 ${m.rouge2.toFixed(3)}, ROUGE-L ${m.rougeL.toFixed(3)};
the embedding gradient named ${m.bag_size} tokens (${(100 * m.bag_recall).toFixed(0)}% of the true ones).
Tokens: <span class="hit">in place</span> <span class="near">in the sentence elsewhere</span> <span class="miss">not in it</span>.</p>
<table>
<tr><th>true</th><td>${m.true_text.map((t) => `<div class="truth">${escapeXml(t)}</div>`).join('')}</td></tr>
${shown.map((s) => row(`iteration ${s.iteration}`, s.sentences)).join('\n')}
</table>
<img src="curves.svg" alt="objective and token accuracy against iteration">
<table>${scalar.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(String(v))}</td></tr>`).join('\n')}</table>
<p>Config: <a href="config.json">config.json</a>, per-iteration history: <a href="history.csv">history.csv</a>, recovered text: <a href="recovered.txt">recovered.txt</a>.</p>
</body></html>
`;
}

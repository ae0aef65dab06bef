// An audit's outputs: audit.json (the config, the versions, every setting's figures and its threat model), audit.csv
// (one row per setting), frontier.svg (accuracy against worst-case leakage, one point per setting), accuracy.svg
// (each setting's training curve) and report.html, which shows them with the table in the order of leakage removed
// per accuracy point lost and each setting's worst and median sample (truth beside reconstruction).
import { join } from 'node:path';
import { writeText } from '../util/files.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import type { AuditConfig } from '../audit/config.js';
import { rankedSettings, type AuditSummary, type SampleLeak, type SettingSummary } from '../audit/summary.js';
import { csvText } from '../sweep/summary.js';
import { modelLabel } from '../sweep/config.js';
import { encodePng } from './png-encode.js';
import { rasterImage } from './raster.js';
import { htmlBlock, writeReport } from './report.js';
import { scatterSvg } from './scatter-svg.js';
import { escapeXml, lineChartSvg } from './svg.js';
import { num, pct } from './sweep-report.js';

export interface AuditRunInfo {
  total: number;
  resumed: number;
  ran: number;
  seconds: number;
  workers: number | string;
  interrupted: boolean;
}

const CSV_COLUMNS = [
  'setting', 'defense', 'value', 'epsilon', 'delta', 'adversary', 'accuracy', 'accuracy_lost_pts', 'samples', 'recovered', 'recovered_naive', 'recovered_fraction',
  'mean_worst_ssim', 'median_worst_ssim', 'max_worst_ssim', 'median_worst_gain_db', 'labels_recovered_fraction', 'strongest_attack', 'leakage_removed_pts', 'removed_per_point',
] as const;

export function auditCsv(s: AuditSummary): string {
  return csvText(CSV_COLUMNS, s.settings.map((r) => [
    r.id, r.defense, r.value, r.privacy?.epsilon ?? '', r.privacy?.delta ?? '', r.privacy?.adversary ?? '', r.accuracy, r.accuracyLost, r.samples, r.recovered, r.recoveredNaive, r.recoveredFraction,
    r.worstSsim.mean, r.worstSsim.median, r.worstSsim.max, r.worstGain.median, r.labelsRecoveredFraction, r.strongestAttack, r.leakageRemoved, r.removedPerPoint,
  ]));
}

/** audit.json: without the sample images (report.html shows them). */
export function auditJson(c: AuditConfig, s: AuditSummary, info: AuditRunInfo): string {
  const settings = s.settings.map(({ worstSample, medianSample, ...r }) => ({ ...r, worstSample: brief(worstSample), medianSample: brief(medianSample) }));
  const finite = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
  return JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, run: info, reference: s.reference, recoveredSsim: s.recoveredSsim, settings, config: c }, finite, 2) + '\n';
}

function brief(l: SampleLeak | null): Omit<SampleLeak, 'truth' | 'reconstruction'> | null {
  if (!l) return null;
  const { truth: _t, reconstruction: _r, ...rest } = l;
  return rest;
}

const epsilonText = (r: SettingSummary) => (r.privacy ? `${r.privacy.epsilon.toPrecision(3)} vs ${r.privacy.adversary === 'server' ? 'server' : 'outsiders'}` : '-');
const ratioText = (x: number) => (x === Infinity ? 'free' : x > 0 ? x.toFixed(2) : '-');

function imageTag(image: number[], shape: [number, number, number], alt: string): string {
  const png = Buffer.from(encodePng(rasterImage(Float64Array.from(image), shape, Math.max(1, Math.round(64 / shape[2]))))).toString('base64');
  return `<img alt="${escapeXml(alt)}" src="data:image/png;base64,${png}">`;
}

function sampleCell(l: SampleLeak | null, shape: [number, number, number]): string {
  if (!l) return '<td>-</td>';
  return `<td>${imageTag(l.truth, shape, 'truth')} ${imageTag(l.reconstruction, shape, 'reconstruction')}<br><small>client ${l.client}, round ${l.round}, image ${l.index}: SSIM ${l.ssim.toFixed(3)}, gain ${num(l.gain, 1)} dB (${escapeXml(l.attack)})</small></td>`;
}

/** Writes every output of the audit into `dir`; returns report.html's path. */
export async function writeAuditOutputs(dir: string, c: AuditConfig, s: AuditSummary, info: AuditRunInfo, shape: [number, number, number] | null): Promise<string> {
  writeText(join(dir, 'audit.json'), auditJson(c, s, info));
  writeText(join(dir, 'audit.csv'), auditCsv(s));
  writeText(join(dir, 'frontier.svg'), scatterSvg({
    title: `Privacy-utility frontier (${modelLabel(c.model)} on ${c.dataset}, ${c.protocol.kind})`,
    xLabel: `share of samples recovered, worst case over attacks (SSIM >= ${s.recoveredSsim})`, yLabel: `test accuracy after ${c.rounds} rounds`,
    xRange: [0, 1], points: s.settings.map((r) => ({ label: r.privacy ? `${r.id} (${r.privacy.epsilon.toPrecision(2)} vs ${r.privacy.adversary})` : r.id, x: r.recoveredFraction, y: r.accuracy, reference: r.id === s.reference })),
  }));
  writeText(join(dir, 'accuracy.svg'), lineChartSvg({
    title: 'Test accuracy while training under each defense', xLabel: 'round', yLabel: 'test accuracy', legend: 'right', width: 820,
    series: s.settings.map((r) => ({ name: r.id, points: r.accuracyCurve.map((a, i) => [i, a] as [number, number]) })),
  }));
  const ranked = rankedSettings(s);
  const table = `<table><tr><th>setting</th><th>epsilon (delta ${c.delta ?? '-'})</th><th>accuracy</th><th>lost (pts)</th><th>recovered</th><th>by naive attacks</th><th>mean worst SSIM</th><th>median worst gain</th><th>labels</th><th>strongest attack</th><th>removed per point lost</th></tr>\n${ranked.map((r) => `<tr><td>${escapeXml(r.id)}</td><td>${epsilonText(r)}</td><td>${num(r.accuracy, 3)}</td><td>${num(r.accuracyLost, 1)}</td><td>${r.recovered}/${r.samples} (${pct(r.recoveredFraction)})</td><td>${r.recoveredNaive}/${r.samples}</td><td>${num(r.worstSsim.mean, 3)}</td><td>${num(r.worstGain.median, 1)} dB</td><td>${pct(r.labelsRecoveredFraction)}</td><td>${escapeXml(r.strongestAttack)}</td><td>${ratioText(r.removedPerPoint)}</td></tr>`).join('\n')}</table>`;
  const samples = shape ? `<h2>Reconstructions: the worst and the median sample of each setting</h2>\n<p>Each cell: the client's true image, then the reconstruction of the attack that came closest (highest SSIM).</p>\n<table><tr><th>setting</th><th>worst sample</th><th>median sample</th></tr>\n${s.settings.map((r) => `<tr><td>${escapeXml(r.id)}</td>${sampleCell(r.worstSample, shape)}${sampleCell(r.medianSample, shape)}</tr>`).join('\n')}</table>` : '';
  const threats = `<h2>Threat model and guarantee of every number</h2>\n<ul>\n${s.settings.map((r) => `<li><b>${escapeXml(r.id)}</b>: leakage against an ${escapeXml(r.threatModel)}; recovered per attack: ${escapeXml(r.byAttack.map((a) => `${a.attack} ${a.recovered}/${a.samples}`).join(', ') || 'no attack yet')}.${r.privacyText ? ` ${escapeXml(r.privacyText)}.` : ''}${r.epsilonTarget !== undefined ? ` Noise calibrated for epsilon ${r.epsilonTarget}.` : ''}</li>`).join('\n')}\n</ul>`;
  const deployment = `${c.clients} clients (${c.partition}), ${c.participation === 'poisson' ? `each taking part with probability ${c.fraction}` : `a cohort of ${c.fraction} of them per round`}, ${c.rounds} rounds, batches of ${c.batchSize}, ${c.protocol.kind} ${JSON.stringify(c.protocol)}`;
  const status = info.interrupted ? '<p><b>Interrupted:</b> the figures are from the jobs that finished; run the same command again to resume.</p>' : '';
  return writeReport(dir, {
    title: 'gradleak audit', heading: 'Privacy-utility audit',
    intro: `<p>${escapeXml(modelLabel(c.model))} trained on ${escapeXml(c.dataset)} by ${escapeXml(deployment)}. Each setting trains the model under that defense, then attacks the messages of rounds ${c.captureRounds.join(', ')} (${c.targets} client(s) each) with ${escapeXml(c.attacks.join(', '))}, naive and adapted to the defense where an adaptive attack exists. A sample counts as recovered when the best attack reaches SSIM ${s.recoveredSsim}; the gain is the PSNR above the sample's flat mean-colour image. Reference: ${escapeXml(s.reference)}.</p>\n${status}`,
  }, [
    htmlBlock(`<h2>Frontier</h2>\n<img src="frontier.svg" alt="accuracy against worst-case leakage">\n<h2>Settings by leakage removed per accuracy point lost</h2>\n${table}`),
    htmlBlock(`<h2>Utility</h2>\n<img src="accuracy.svg" alt="accuracy curves">`),
    htmlBlock(samples),
    htmlBlock(threats),
    htmlBlock(`<h2>Rerun</h2>\n<p>gradleak ${GRADLEAK_VERSION}, Node ${process.version}; ${info.total} jobs (${info.resumed} found finished, ${info.ran} run in ${info.seconds.toFixed(0)} s on ${info.workers} worker(s)). The exact config (audit.json has it too):</p>\n<pre>${escapeXml(JSON.stringify(c, null, 2))}</pre>`),
  ]);
}

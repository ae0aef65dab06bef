// What an audit found, per defense setting: the utility (test accuracy of the model trained under it), the worst-case
// leakage over every attack (naive and adaptive) and dummy seed, sample by sample, and the DP guarantee with the party
// it holds against. A sample is one image of one captured batch (a client at a round); its leakage is the highest
// SSIM any attack reached on it (its reconstruction as it came, or clipped to [0, 1]), and the highest PSNR gain over its flat mean-colour image; it counts as recovered at
// SSIM >= RECOVERED_SSIM, and its label as recovered when any attack got it right. Against the reference setting
// (none, else the first) each setting's leakage removed is weighed against the accuracy it costs.
import type { PrivacyGuarantee } from '../privacy/guarantees.js';
import { describeGuarantee } from '../privacy/guarantees.js';
import { RECOVERED_SSIM } from '../sweep/worst-case.js';
import { mean, median, quantile } from '../util/stats.js';
import type { AuditConfig } from './config.js';
import type { AuditAttackResult, AuditTrainResult } from '../sweep/audit-jobs.js';
import type { AuditSetting } from './settings.js';

/** One sample's worst case, with the images of the attack that reached it. */
export interface SampleLeak {
  round: number;
  client: number;
  /** Position in the client's batch, and index in the dataset. */
  position: number;
  index: number;
  ssim: number;
  gain: number;
  psnr: number;
  labelRecovered: boolean;
  /** The attack that reached the highest SSIM ('unrolled', 'unrolled (adaptive)'). */
  attack: string;
  truth: number[];
  reconstruction: number[];
}

export interface SettingSummary {
  id: string;
  defense: string;
  value: number;
  /** The requested epsilon of a DP setting. */
  epsilonTarget?: number;
  /** Test accuracy after the last round, and after each round from 0. */
  accuracy: number;
  accuracyCurve: number[];
  samples: number;
  recovered: number;
  recoveredFraction: number;
  labelsRecoveredFraction: number;
  worstSsim: { mean: number; median: number; q25: number; q75: number; max: number };
  worstGain: { mean: number; median: number; max: number };
  byRound: { round: number; samples: number; recoveredFraction: number; meanWorstSsim: number; medianWorstGain: number }[];
  /** The attack that reached the highest SSIM on the most samples. */
  strongestAttack: string;
  /** Samples recovered by the naive attacks alone (the adaptive ones left out). */
  recoveredNaive: number;
  /** Each attack on its own: samples recovered and mean worst SSIM over its seeds. */
  byAttack: { attack: string; recovered: number; samples: number; meanWorstSsim: number }[];
  attacksRun: string[];
  /** The DP guarantee of this setting's mechanism (null: not DP). */
  privacy: PrivacyGuarantee | null;
  privacyText: string | null;
  /** Who attacks and what it knows, in words. */
  threatModel: string;
  /** Against the reference: recovered share removed and accuracy lost (percentage points), and their ratio. */
  leakageRemoved: number;
  accuracyLost: number;
  removedPerPoint: number;
  /** The sample with the highest worst-case SSIM, and the median one. */
  worstSample: SampleLeak | null;
  medianSample: SampleLeak | null;
}

export interface AuditSummary {
  reference: string;
  recoveredSsim: number;
  settings: SettingSummary[];
}

const attackName = (r: AuditAttackResult) => `${r.job.attack}${r.job.adaptive ? ' (adaptive)' : ''}`;

/** Each sample's worst case over the setting's attack results (each reconstruction as it came and clipped to [0, 1]). */
export function sampleLeaks(results: readonly AuditAttackResult[]): SampleLeak[] {
  const byId = new Map<string, SampleLeak>();
  for (const r of results) {
    r.metrics.per_image.forEach((raw, position) => {
      const box = r.boxed[position];
      const [ssim, gain, psnr] = [Math.max(raw.ssim, box.ssim), Math.max(raw.psnr_gain, box.psnr_gain), Math.max(raw.psnr, box.psnr)];
      const id = `${r.job.round}:${r.job.client}:${position}`;
      const seen = byId.get(id);
      const labelOk = raw.label_pred === raw.label_true;
      if (!seen) {
        byId.set(id, {
          round: r.job.round, client: r.job.client, position, index: raw.index, ssim, gain, psnr, labelRecovered: labelOk,
          attack: attackName(r), truth: r.images[position].truth, reconstruction: r.images[position].reconstruction,
        });
        return;
      }
      if (ssim > seen.ssim) Object.assign(seen, { ssim, attack: attackName(r), reconstruction: r.images[position].reconstruction });
      if (gain > seen.gain || Number.isNaN(seen.gain)) seen.gain = gain;
      if (psnr > seen.psnr || Number.isNaN(seen.psnr)) seen.psnr = psnr;
      seen.labelRecovered ||= labelOk;
    });
  }
  return [...byId.values()].sort((a, b) => a.round - b.round || a.client - b.client || a.position - b.position);
}

/** The privacy a setting's training states: the guarantee of its DP mechanism, if any. */
function privacyOf(t: AuditTrainResult | undefined): PrivacyGuarantee | null {
  const p = t?.metrics.privacy;
  return p?.local ?? p?.central ?? p?.dpSgd ?? null;
}

const ADAPTIVE_TEXT: Record<string, string> = {
  prune: 'matches only the entries pruning kept', soteria: 'leaves the defended layer out of its objective', dp: 'scale-free cosine against clipping and noise',
};

function threatModel(c: AuditConfig, s: AuditSetting): string {
  const knows = `knows the model, the weights it sent, the protocol (${c.protocol.kind}) and the client's message`;
  const adaptive = s.adaptive ? `; the adaptive attack also knows the defense (${ADAPTIVE_TEXT[s.adaptive.name] ?? s.adaptive.name})` : '';
  const central = s.defense === 'central-dp' ? '; central DP noise is added after the server has seen each message' : '';
  return `honest-but-curious server: ${knows}${adaptive}${central}`;
}

function summariseSetting(c: AuditConfig, s: AuditSetting, t: AuditTrainResult | undefined, results: readonly AuditAttackResult[]): Omit<SettingSummary, 'leakageRemoved' | 'accuracyLost' | 'removedPerPoint'> {
  const leaks = sampleLeaks(results);
  const ssims = leaks.map((l) => l.ssim), gains = leaks.map((l) => l.gain);
  const recovered = leaks.filter((l) => l.ssim >= RECOVERED_SSIM).length;
  const wins = new Map<string, number>();
  for (const l of leaks) wins.set(l.attack, (wins.get(l.attack) ?? 0) + 1);
  const rounds = [...new Set(leaks.map((l) => l.round))].sort((a, b) => a - b);
  const bySsim = [...leaks].sort((a, b) => a.ssim - b.ssim);
  const privacy = privacyOf(t);
  return {
    id: s.id, defense: s.defense, value: s.value, ...(s.epsilon !== undefined ? { epsilonTarget: s.epsilon } : {}),
    accuracy: t ? t.metrics.final_accuracy : NaN, accuracyCurve: t ? t.metrics.accuracy : [],
    samples: leaks.length, recovered, recoveredFraction: leaks.length ? recovered / leaks.length : NaN,
    labelsRecoveredFraction: leaks.length ? leaks.filter((l) => l.labelRecovered).length / leaks.length : NaN,
    worstSsim: { mean: mean(ssims), median: median(ssims), q25: quantile(ssims, 0.25), q75: quantile(ssims, 0.75), max: leaks.length ? Math.max(...ssims) : NaN },
    worstGain: { mean: mean(gains), median: median(gains), max: leaks.length ? Math.max(...gains) : NaN },
    byRound: rounds.map((round) => {
      const at = leaks.filter((l) => l.round === round);
      return { round, samples: at.length, recoveredFraction: at.filter((l) => l.ssim >= RECOVERED_SSIM).length / at.length, meanWorstSsim: mean(at.map((l) => l.ssim)), medianWorstGain: median(at.map((l) => l.gain)) };
    }),
    strongestAttack: wins.size ? [...wins.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0] : '',
    attacksRun: [...new Set(results.map(attackName))],
    recoveredNaive: sampleLeaks(results.filter((r) => !r.job.adaptive)).filter((l) => l.ssim >= RECOVERED_SSIM).length,
    byAttack: [...new Set(results.map(attackName))].map((attack) => {
      const own = sampleLeaks(results.filter((r) => attackName(r) === attack));
      return { attack, recovered: own.filter((l) => l.ssim >= RECOVERED_SSIM).length, samples: own.length, meanWorstSsim: mean(own.map((l) => l.ssim)) };
    }),
    privacy, privacyText: privacy ? describeGuarantee(privacy) : null,
    threatModel: threatModel(c, s),
    worstSample: bySsim[bySsim.length - 1] ?? null, medianSample: bySsim[Math.floor((bySsim.length - 1) / 2)] ?? null,
  };
}

/** The audit's summary from the results that finished (a setting not trained or attacked yet has NaN figures). */
export function summariseAudit(c: AuditConfig, trained: readonly AuditTrainResult[], attacked: readonly AuditAttackResult[]): AuditSummary {
  const rows = c.settings.map((s) => summariseSetting(c, s, trained.find((t) => t.job.setting === s.id), attacked.filter((r) => r.job.setting === s.id)));
  const ref = rows.find((r) => r.defense === 'none') ?? rows[0];
  const settings = rows.map((r): SettingSummary => {
    const leakageRemoved = 100 * (ref.recoveredFraction - r.recoveredFraction), accuracyLost = 100 * (ref.accuracy - r.accuracy);
    return { ...r, leakageRemoved, accuracyLost, removedPerPoint: removedPerPoint(leakageRemoved, accuracyLost) };
  });
  return { reference: ref.id, recoveredSsim: RECOVERED_SSIM, settings };
}

/**
 * Leakage removed per accuracy point lost: the table's order. A setting that removes leakage at no cost in accuracy
 * (lost <= 0.5 point, within the noise of a test set) is worth +Infinity; one that removes none is worth 0.
 */
export function removedPerPoint(removed: number, lost: number): number {
  if (!(removed > 0)) return 0;
  return lost <= 0.5 ? Infinity : removed / lost;
}

/** Settings in the table's order: most leakage removed per accuracy point first, then most removed, then the config's order. */
export function rankedSettings(s: AuditSummary): SettingSummary[] {
  return s.settings.map((r, i) => ({ r, i }))
    .sort((a, b) => (b.r.removedPerPoint - a.r.removedPerPoint) || (b.r.leakageRemoved - a.r.leakageRemoved) || a.i - b.i || 0)
    .map(({ r }) => r);
}

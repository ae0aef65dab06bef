// The one schema of metrics.json, for runs of every modality: the common fields (run-metrics.ts) and, by
// `modality`, the image scores (image-metrics.ts) or the text scores (text-metrics.ts, run/text-run.ts). A number
// that was NaN or infinite is null in JSON. Tests validate real runs of both modalities against it; a reader of
// results (a sweep resumed from its log, a user's script) can too.
import { z } from 'zod';

/** A float as JSON has it: NaN and infinities become null. */
const float = z.number().nullable();
const count = z.number().int().nonnegative();

const common = {
  attack: z.string(),
  dataset: z.string(),
  index: count,
  indices: z.array(count),
  batch_size: z.number().int().positive(),
  seed: count,
  iterations: count,
  evaluations: count,
  seconds: z.number().nonnegative(),
  objective: float,
  diverged: z.boolean(),
  interrupted: z.boolean(),
  restarts: z.number().int().positive(),
  chosen_restart: count,
  chosen_seed: count,
  restart_objectives: z.array(float),
  threat_model: z.string().optional(),
  users: z.number().int().positive().optional(),
  privacy: z.strictObject({
    epsilon: z.number().nonnegative(), delta: z.number().positive().max(1), order: z.number().gt(1),
    adversary: z.enum(['server', 'outsiders']), mechanism: z.string(), rounds: z.number().int().positive(),
  }).optional(),
};

const label = z.union([z.number().int(), z.array(z.number().int())]);

const imageScore = z.strictObject({
  index: count, label_true: z.number().int(), label_pred: z.number().int(), mse: float, psnr: float, ssim: float, psnr_affine: float,
  psnr_flat: float, psnr_gain: float,
});

export const IMAGE_METRICS = z.strictObject({
  modality: z.literal('image'),
  ...common,
  mse: float,
  psnr: float,
  ssim: float,
  psnr_affine: float,
  psnr_gain: float,
  per_image: z.array(imageScore),
  recovered: count.optional(),
  expected: z.number().nonnegative().optional(),
  label_matches: count,
  label_true: label,
  label_pred: label,
  label_correct: z.boolean(),
  label_inferred: z.boolean(),
  label_method: z.string(),
  analytic: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});

const unit = z.number().min(0).max(1);

export const TEXT_METRICS = z.strictObject({
  modality: z.literal('text'),
  ...common,
  model: z.string(),
  protocol: z.string(),
  defense: z.string(),
  tokenAccuracy: unit,
  rouge1: unit,
  rouge2: unit,
  rougeL: unit,
  order: z.array(count),
  bag_size: count,
  bag_recall: unit,
  true_text: z.array(z.string()),
  recovered_text: z.array(z.string()),
  true_tokens: z.array(z.array(count)),
  recovered_tokens: z.array(z.array(count)),
});

export const RUN_METRICS = z.discriminatedUnion('modality', [IMAGE_METRICS, TEXT_METRICS]);
export type RunMetricsJson = z.infer<typeof RUN_METRICS>;

/** A metrics.json's content checked against the schema; the first problem as one line (path: message). */
export function checkMetricsJson(value: unknown): RunMetricsJson {
  const r = RUN_METRICS.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(`metrics.json: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
}

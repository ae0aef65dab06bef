// Image-reconstruction quality metrics: MSE, PSNR, SSIM, label accuracy.
//
// Images are flat CHW arrays (Float64Array or Float32Array) with values nominally in
// [0, dataRange]; a batch is [B,C,H,W] flat. No clipping is applied here: callers that
// want metrics of the displayed image should clip first.
import { exp, log10 } from '../util/portable-math.js';

export type ImageArray = Float64Array | Float32Array | readonly number[];

function checkSameLength(a: ImageArray, b: ImageArray, what: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${what}: arrays differ in length (${a.length} vs ${b.length})`);
  }
}

/**
 * Mean squared error: (1/N) * sum_i (a_i - b_i)^2 over all N values.
 * NaN for empty arrays or if any value is NaN.
 */
export function mse(a: ImageArray, b: ImageArray): number {
  checkSameLength(a, b, 'mse');
  const n = a.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return s / n;
}

/**
 * Peak signal-to-noise ratio in dB: 10 * log10(dataRange^2 / mse).
 * Infinity when mse is 0 (identical images); NaN when mse is negative or not finite.
 */
export function psnr(mseValue: number, dataRange = 1): number {
  if (!Number.isFinite(mseValue) || mseValue < 0) return NaN;
  if (mseValue === 0) return Infinity;
  return 10 * log10((dataRange * dataRange) / mseValue);
}

/** Normalised 1-D Gaussian of `size` taps, standard deviation `sigma`, centred at (size-1)/2. */
function gaussian1d(size: number, sigma: number): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    const v = exp(-((i - c) * (i - c)) / (2 * sigma * sigma));
    g[i] = v;
    s += v;
  }
  for (let i = 0; i < size; i++) g[i]! /= s;
  return g;
}

/** SSIM window side (11) and Gaussian sigma (1.5) of Wang et al., IEEE TIP 2004. */
export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;

/**
 * Structural similarity index (Wang, Bovik, Sheikh, Simoncelli, "Image quality assessment: from
 * error visibility to structural similarity", IEEE TIP 2004), as in the authors'
 * MATLAB ssim_index.m, applied per channel:
 *
 *   w        = 11x11 Gaussian window, sigma 1.5, normalised to sum 1
 *   C1       = (K1 L)^2, C2 = (K2 L)^2 with K1 = 0.01, K2 = 0.03, L = dataRange
 *   for each 'valid' window position p (window fully inside the image, no padding):
 *     mu_x     = sum_q w(q) x(p+q)                     (same for mu_y)
 *     sigma_x2 = sum_q w(q) x(p+q)^2 - mu_x^2           (same for sigma_y2)
 *     sigma_xy = sum_q w(q) x(p+q) y(p+q) - mu_x mu_y
 *     SSIM(p)  = (2 mu_x mu_y + C1)(2 sigma_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(sigma_x2 + sigma_y2 + C2))
 *   SSIM of a channel = mean of SSIM(p) over the valid positions;
 *   result = mean over channels.
 *
 * Small images: if H (or W) is below 11, the window's height (or width) is shrunk to H
 * (or W), keeping sigma 1.5 and renormalising; then there is a single window position
 * along that axis. (The MATLAB code would refuse such images.) No downsampling is done
 * for large images (unlike the later ssim.m). The result is symmetric in a and b, is 1
 * for a == b, and is NaN if any value is NaN.
 */
export function ssim(
  a: ImageArray,
  b: ImageArray,
  shape: readonly [number, number, number],
  dataRange = 1,
): number {
  const [C, H, W] = shape;
  checkSameLength(a, b, 'ssim');
  if (a.length !== C * H * W) {
    throw new RangeError(`ssim: array length ${a.length} does not match shape [${C}, ${H}, ${W}]`);
  }
  if (C <= 0 || H <= 0 || W <= 0) return NaN;
  const wh = Math.min(SSIM_WINDOW, H);
  const ww = Math.min(SSIM_WINDOW, W);
  const gy = gaussian1d(wh, SSIM_SIGMA);
  const gx = gaussian1d(ww, SSIM_SIGMA);
  const C1 = (SSIM_K1 * dataRange) ** 2;
  const C2 = (SSIM_K2 * dataRange) ** 2;
  const Ho = H - wh + 1;
  const Wo = W - ww + 1;

  // Horizontal pass: 5 maps of [H, Wo]; vertical pass reduces to [Ho, Wo] on the fly.
  const hx = new Float64Array(H * Wo);
  const hy = new Float64Array(H * Wo);
  const hxx = new Float64Array(H * Wo);
  const hyy = new Float64Array(H * Wo);
  const hxy = new Float64Array(H * Wo);
  let total = 0;
  for (let c = 0; c < C; c++) {
    const base = c * H * W;
    for (let r = 0; r < H; r++) {
      const row = base + r * W;
      for (let o = 0; o < Wo; o++) {
        let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (let k = 0; k < ww; k++) {
          const w = gx[k]!;
          const x = a[row + o + k]!;
          const y = b[row + o + k]!;
          sx += w * x;
          sy += w * y;
          sxx += w * x * x;
          syy += w * y * y;
          sxy += w * x * y;
        }
        const j = r * Wo + o;
        hx[j] = sx;
        hy[j] = sy;
        hxx[j] = sxx;
        hyy[j] = syy;
        hxy[j] = sxy;
      }
    }
    let chanSum = 0;
    for (let r = 0; r < Ho; r++) {
      for (let o = 0; o < Wo; o++) {
        let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
        for (let k = 0; k < wh; k++) {
          const w = gy[k]!;
          const j = (r + k) * Wo + o;
          mx += w * hx[j]!;
          my += w * hy[j]!;
          exx += w * hxx[j]!;
          eyy += w * hyy[j]!;
          exy += w * hxy[j]!;
        }
        const vx = exx - mx * mx;
        const vy = eyy - my * my;
        const cxy = exy - mx * my;
        chanSum +=
          ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      }
    }
    total += chanSum / (Ho * Wo);
  }
  return total / C;
}

/**
 * Fraction of positions where pred[i] === truth[i] (order matters: label i of the
 * prediction is compared with label i of the truth). NaN for empty arrays.
 */
export function labelAccuracy(pred: readonly number[], truth: readonly number[]): number {
  if (pred.length !== truth.length) {
    throw new RangeError(`labelAccuracy: ${pred.length} predicted labels vs ${truth.length} true labels`);
  }
  if (pred.length === 0) return NaN;
  let hit = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === truth[i]) hit++;
  return hit / pred.length;
}

export interface ImageScores {
  mse: number;
  psnr: number;
  ssim: number;
}

export interface BatchScores {
  /** Scores of image i of `a` against image i of `b`. */
  perImage: ImageScores[];
  /** Mean of the per-image MSEs (= MSE over the whole batch). */
  meanMse: number;
  /** Mean of the per-image PSNRs (Infinity if any image is reconstructed exactly). */
  meanPsnr: number;
  /** Mean of the per-image SSIMs. */
  meanSsim: number;
}

/**
 * MSE / PSNR / SSIM of each image of batch `a` against the same-index image of batch
 * `b` (both [B,C,H,W] flat), plus their means. Images are paired by index: if the attack
 * may return the batch in a different order, match them before calling this.
 */
export function imageScoresBatch(
  a: Float64Array | Float32Array,
  b: Float64Array | Float32Array,
  shape: readonly [number, number, number, number],
  dataRange = 1,
): BatchScores {
  const [B, C, H, W] = shape;
  const n = C * H * W;
  checkSameLength(a, b, 'imageScoresBatch');
  if (a.length !== B * n) {
    throw new RangeError(`imageScoresBatch: array length ${a.length} does not match shape [${B}, ${C}, ${H}, ${W}]`);
  }
  const perImage: ImageScores[] = [];
  let sm = 0, sp = 0, ss = 0;
  for (let i = 0; i < B; i++) {
    const ai = a.subarray(i * n, (i + 1) * n);
    const bi = b.subarray(i * n, (i + 1) * n);
    const m = mse(ai, bi);
    const s: ImageScores = { mse: m, psnr: psnr(m, dataRange), ssim: ssim(ai, bi, [C, H, W], dataRange) };
    perImage.push(s);
    sm += s.mse;
    sp += s.psnr;
    ss += s.ssim;
  }
  return {
    perImage,
    meanMse: B ? sm / B : NaN,
    meanPsnr: B ? sp / B : NaN,
    meanSsim: B ? ss / B : NaN,
  };
}

/**
 * PSNR after mapping each colour channel of `a` onto `b` by its least-squares affine fit s*a + t
 * (s = cov(a,b)/var(a), t = mean(b) - s mean(a)). With BatchNorm in train mode at batch 1 the client's
 * gradient barely depends on a channel's offset or the image's contrast (the first BatchNorm removes
 * them), so no attack can recover them; this PSNR scores what the gradient does determine.
 * `shape` is [C, H, W] of one image.
 */
export function affinePsnr(a: ImageArray, b: ImageArray, shape: readonly [number, number, number], dataRange = 1): number {
  checkSameLength(a, b, 'affinePsnr');
  const [C] = shape, n = a.length / C;
  let se = 0;
  for (let c = 0; c < C; c++) {
    let ma = 0, mb = 0;
    for (let i = c * n; i < (c + 1) * n; i++) (ma += a[i]!), (mb += b[i]!);
    ma /= n;
    mb /= n;
    let sab = 0, saa = 0;
    for (let i = c * n; i < (c + 1) * n; i++) (sab += (a[i]! - ma) * (b[i]! - mb)), (saa += (a[i]! - ma) ** 2);
    const s = saa > 0 ? sab / saa : 0;
    for (let i = c * n; i < (c + 1) * n; i++) se += (s * (a[i]! - ma) + mb - b[i]!) ** 2;
  }
  return psnr(se / a.length, dataRange);
}

/**
 * PSNR of the flat image of the truth's own mean colour (each channel its mean) against the truth: the floor an
 * attack must beat to have recovered more than a colour. It is affinePsnr of any constant image (the least-squares
 * affine fit of a constant is the channel mean).
 */
export function flatPsnr(truth: ImageArray, shape: readonly [number, number, number], dataRange = 1): number {
  return affinePsnr(new Float64Array(truth.length), truth, shape, dataRange);
}


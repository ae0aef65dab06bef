// Elementwise activations z = s(a). With s' and s'' written in terms of z where possible:
//   backward        da  = s'(a) dz
//   tangentForward  z'  = s'(a) a'
//   tangentBackward da' = s''(a) a' dz + s'(a) dz'
import type { Arr } from '../kernels.js';
import type { Layer, Shape } from './layer.js';
import { exp, log, powInt } from '../../util/portable-math.js';
import { erf } from '../erf.js';

export type ActivationName = 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'gelu' | 'gelu_tanh' | 'clip' | UnaryName | 'pow' | 'elu' | 'hard_sigmoid';
/** Elementwise functions without parameters that ONNX graphs compute (Sqrt, Exp, Log, Erf, Abs, Selu, Softplus). */
export const UNARY_NAMES = ['sqrt', 'exp', 'log', 'erf', 'abs', 'selu', 'softplus'] as const;
export type UnaryName = (typeof UNARY_NAMES)[number];

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327; // 1/sqrt(2 pi)
const TANH_C = 0.7978845608028654; // sqrt(2/pi)
const TANH_K = 0.044715;

/** tanh(u) of gelu_tanh's inner function u = sqrt(2/pi) (a + 0.044715 a^3); u' = sqrt(2/pi) (1 + 3 0.044715 a^2). */
const tanhOfInner = (a: number) => Math.tanh(TANH_C * (a + TANH_K * a * a * a));
const innerSlope = (a: number) => TANH_C * (1 + 3 * TANH_K * a * a);

/** Per-element rule: value, first and second derivative given the input a and output z. */
interface Rule {
  f(a: number): number;
  d1(a: number, z: number): number;
  d2(a: number, z: number): number;
}

const TWO_OVER_SQRT_PI = 1.1283791670955126; // 2/sqrt(pi)
const SELU_ALPHA = 1.6732632423543772; // PyTorch's selu constants
const SELU_LAMBDA = 1.0507009873554805;

const RULES: Record<Exclude<ActivationName, 'leaky_relu' | 'clip' | 'pow' | 'elu' | 'hard_sigmoid'>, Rule> = {
  // s = 1/(1+e^-a), s' = s(1-s), s'' = s'(1-2s)
  sigmoid: {
    f: (a) => 1 / (1 + exp(-a)),
    d1: (_a, z) => z * (1 - z),
    d2: (_a, z) => z * (1 - z) * (1 - 2 * z),
  },
  // tanh' = 1 - z^2, tanh'' = -2 z (1 - z^2)
  tanh: {
    f: Math.tanh,
    d1: (_a, z) => 1 - z * z,
    d2: (_a, z) => -2 * z * (1 - z * z),
  },
  // relu' = [a > 0] (0 at a = 0, as PyTorch), relu'' = 0
  relu: {
    // biome-ignore lint/complexity/useMathMinMax: the comparison is the definition above (and maps NaN to 0, as before)
    f: (a) => (a > 0 ? a : 0),
    d1: (a) => (a > 0 ? 1 : 0),
    d2: () => 0,
  },
  // gelu(a) = a Phi(a), Phi(a) = (1 + erf(a/sqrt 2))/2 (PyTorch's exact form, computed as it does),
  // gelu' = Phi + a phi, gelu'' = phi (2 - a^2), phi(a) = e^(-a^2/2)/sqrt(2 pi)
  gelu: {
    f: (a) => 0.5 * a * (1 + erf(a * SQRT1_2)),
    d1: (a) => 0.5 * (1 + erf(a * SQRT1_2)) + a * INV_SQRT_2PI * exp(-0.5 * a * a),
    d2: (a) => INV_SQRT_2PI * exp(-0.5 * a * a) * (2 - a * a),
  },
  // gelu_tanh(a) = a (1 + t)/2, t = tanh u (PyTorch's approximate='tanh'), u'' = sqrt(2/pi) 6 0.044715 a:
  // f' = (1 + t)/2 + a (1 - t^2) u'/2,  f'' = (1 - t^2) (u' + a (u'' - 2 t u'^2)/2)
  gelu_tanh: {
    f: (a) => 0.5 * a * (1 + tanhOfInner(a)),
    d1: (a) => {
      const t = tanhOfInner(a);
      return 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * innerSlope(a);
    },
    d2: (a) => {
      const t = tanhOfInner(a), u1 = innerSlope(a);
      return (1 - t * t) * (u1 + 0.5 * a * (TANH_C * 6 * TANH_K * a - 2 * t * u1 * u1));
    },
  },
  // sqrt' = 1/(2z), sqrt'' = -1/(4 z^3)
  sqrt: { f: Math.sqrt, d1: (_a, z) => 0.5 / z, d2: (_a, z) => -0.25 / (z * z * z) },
  // exp' = exp'' = z
  exp: { f: exp, d1: (_a, z) => z, d2: (_a, z) => z },
  // log' = 1/a, log'' = -1/a^2
  log: { f: log, d1: (a) => 1 / a, d2: (a) => -1 / (a * a) },
  // erf' = 2/sqrt(pi) e^(-a^2), erf'' = -2a erf'
  erf: {
    f: erf,
    d1: (a) => TWO_OVER_SQRT_PI * exp(-a * a),
    d2: (a) => -2 * a * TWO_OVER_SQRT_PI * exp(-a * a),
  },
  // |a|: derivative sign(a) (0 at 0, as PyTorch), second 0
  abs: { f: Math.abs, d1: (a) => Math.sign(a), d2: () => 0 },
  // selu = lambda elu(a; alpha) with PyTorch's constants
  selu: scaled(SELU_LAMBDA, elu(SELU_ALPHA)),
  // softplus = log(1 + e^a) (linear above 20, as PyTorch), softplus' = sigmoid(a), softplus'' = s (1 - s)
  softplus: {
    f: (a) => (a > 20 ? a : log(1 + exp(a))),
    d1: (a) => (a > 20 ? 1 : 1 / (1 + exp(-a))),
    d2: (a) => {
      const s = 1 / (1 + exp(-a));
      return a > 20 ? 0 : s * (1 - s);
    },
  },
};

/** elu(a) = a for a > 0, alpha (e^a - 1) else: derivative 1 or z + alpha, second 0 or z + alpha. */
function elu(alpha: number): Rule {
  return {
    f: (a) => (a > 0 ? a : alpha * (exp(a) - 1)),
    d1: (a, z) => (a > 0 ? 1 : z + alpha),
    d2: (a, z) => (a > 0 ? 0 : z + alpha),
  };
}

/** c f: derivatives c f', c f'' (f's rule sees z / c). */
function scaled(c: number, r: Rule): Rule {
  return { f: (a) => c * r.f(a), d1: (a, z) => c * r.d1(a, z / c), d2: (a, z) => c * r.d2(a, z / c) };
}

/** hard_sigmoid(a) = min(1, max(0, alpha a + beta)) (ONNX HardSigmoid): derivative alpha inside (0, 1), second 0. */
function hardSigmoid(alpha: number, beta: number): Rule {
  return {
    f: (a) => Math.min(1, Math.max(0, alpha * a + beta)),
    d1: (a) => (alpha * a + beta > 0 && alpha * a + beta < 1 ? alpha : 0),
    d2: () => 0,
  };
}

/** pow(a) = a^p for a constant p: p a^(p-1), p (p-1) a^(p-2) (integer p by repeated products, as exactly as PyTorch). */
function pow(p: number): Rule {
  const at = (a: number, e: number) => (!Number.isInteger(e) ? a ** e : e >= 0 ? powInt(a, e) : 1 / powInt(a, -e));
  return { f: (a) => at(a, p), d1: (a) => p * at(a, p - 1), d2: (a) => p * (p - 1) * at(a, p - 2) };
}

/** leaky_relu(a) = a > 0 ? a : slope a; derivative [a > 0] + slope [a <= 0] (slope at a = 0, as PyTorch), second 0. */
function leakyRelu(slope: number): Rule {
  return {
    f: (a) => (a > 0 ? a : slope * a),
    d1: (a) => (a > 0 ? 1 : slope),
    d2: () => 0,
  };
}

/** clip(a) = min(max(a, lo), hi) (ONNX Clip, ReLU6 = clip to [0, 6]); derivative [lo < a < hi] (0 at the ends), second 0. */
function clip(lo: number, hi: number): Rule {
  return {
    f: (a) => Math.min(Math.max(a, lo), hi),
    d1: (a) => (a > lo && a < hi ? 1 : 0),
    d2: () => 0,
  };
}

/** The constants of the parametrised functions (defaults: PyTorch's / ONNX's). */
export interface ActivationOptions {
  /** leaky_relu's negative slope (0.01). */
  slope?: number;
  /** clip's [lo, hi] ([0, 6]). */
  range?: readonly [number, number];
  /** pow's exponent (2). */
  exponent?: number;
  /** elu's alpha (1), hard_sigmoid's slope (0.2). */
  alpha?: number;
  /** hard_sigmoid's offset (0.5). */
  beta?: number;
}

export class Activation implements Layer {
  readonly kind: string;
  readonly outShape: Shape;
  readonly paramShapes = [];
  private readonly rule: Rule;

  constructor(readonly fn: ActivationName, readonly inShape: Shape, o: ActivationOptions = {}) {
    this.kind = fn;
    this.outShape = inShape;
    const [lo, hi] = o.range ?? [0, 6];
    const parametrised: Partial<Record<ActivationName, () => Rule>> = {
      leaky_relu: () => leakyRelu(o.slope ?? 0.01), clip: () => clip(lo, hi), pow: () => pow(o.exponent ?? 2),
      elu: () => elu(o.alpha ?? 1), hard_sigmoid: () => hardSigmoid(o.alpha ?? 0.2, o.beta ?? 0.5),
    };
    this.rule = parametrised[fn]?.() ?? RULES[fn as keyof typeof RULES];
  }

  bind(): void {}

  forward(a: Arr, z: Arr): void {
    const f = this.rule.f;
    for (let i = 0; i < a.length; i++) z[i] = f(a[i]);
  }

  backward(a: Arr, z: Arr, dz: Arr, da: Arr | null): void {
    if (!da) return;
    const d1 = this.rule.d1;
    for (let i = 0; i < a.length; i++) da[i] = d1(a[i], z[i]) * dz[i];
  }

  tangentForward(a: Arr, adot: Arr | null, z: Arr, zdot: Arr): void {
    if (!adot) return void zdot.fill(0);
    const d1 = this.rule.d1;
    for (let i = 0; i < a.length; i++) zdot[i] = d1(a[i], z[i]) * adot[i];
  }

  tangentBackward(
    a: Arr, adot: Arr | null, z: Arr, _zdot: Arr, dz: Arr, dzdot: Arr, dadot: Arr | null,
  ): void {
    if (!dadot) return;
    const { d1, d2 } = this.rule;
    for (let i = 0; i < a.length; i++) {
      const second = adot ? d2(a[i], z[i]) * adot[i] * dz[i] : 0;
      dadot[i] = second + d1(a[i], z[i]) * dzdot[i];
    }
  }
}

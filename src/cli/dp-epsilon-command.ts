// gradleak dp-epsilon: the (epsilon, delta) of T steps of the subsampled Gaussian mechanism (Poisson sampling, or
// a fixed-size sample without replacement), from the
// Rényi-DP accountant (privacy/rdp.ts), so that the accountant can be checked on its own and a deployment's
// DP settings read as a guarantee.
import { Command } from 'commander';
import { DEFAULT_ORDERS, gaussianEpsilon, SAMPLINGS, type Sampling } from '../privacy/rdp.js';
import { fraction, oneOf, positiveInt, positiveNumber } from './parse.js';

interface Options {
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
  delta: number;
  sensitivity: number;
  sampling: Sampling;
  json?: boolean;
}

export function dpEpsilonCommand(): Command {
  return new Command('dp-epsilon')
    .description('the (epsilon, delta) of T steps of the subsampled Gaussian mechanism, Poisson or without replacement (Rényi-DP accountant, orders 1.1..1024)')
    .requiredOption('--sampling-rate <q>', 'probability that a record (example or client) is in a step, in (0, 1]; 1: every step sees it', fraction(true))
    .requiredOption('--noise-multiplier <z>', 'noise standard deviation over the clipping norm C', positiveNumber)
    .requiredOption('--steps <T>', 'steps (rounds) composed', positiveInt)
    .option('--delta <d>', 'target delta, in (0, 1)', fraction(false), 1e-5)
    .option('--sampling <kind>', 'poisson (each record with probability q; add/remove-one) or without-replacement (a uniform subset of q n records each step; replace-one)', oneOf(SAMPLINGS), 'poisson')
    .option('--sensitivity <s>', 'L2 sensitivity in units of C: 1 for add/remove-one, 2 for replace-one of a clipped contribution', positiveNumber, 1)
    .option('--json', 'one JSON line')
    .action((o: Options) => {
      const z = o.noiseMultiplier / o.sensitivity;
      const { epsilon, order } = gaussianEpsilon({ q: o.samplingRate, z, steps: o.steps, delta: o.delta, sampling: o.sampling });
      const atEdge = order === DEFAULT_ORDERS[0] || order === DEFAULT_ORDERS[DEFAULT_ORDERS.length - 1];
      const edge = atEdge ? `the best order is the ${order === DEFAULT_ORDERS[0] ? 'smallest' : 'largest'} one accounted: epsilon may be looser than the mechanism's` : '';
      if (o.json) {
        console.log(JSON.stringify({
          epsilon, delta: o.delta, order, order_at_edge: atEdge, mechanism: `${o.sampling}-subsampled-gaussian`, sampling: o.sampling, sampling_rate: o.samplingRate,
          noise_multiplier: o.noiseMultiplier, sensitivity: o.sensitivity, steps: o.steps, accountant: 'rdp',
        }));
        return;
      }
      console.log(`epsilon ${epsilon.toPrecision(4)} at delta ${o.delta} (Rényi order ${order}): ${o.steps} steps, ${o.sampling} sampling rate ${o.samplingRate}, noise multiplier ${o.noiseMultiplier}${o.sensitivity !== 1 ? `, sensitivity ${o.sensitivity} C` : ''}`);
      if (edge) console.log(`  ${edge}`);
    });
}

// The text case end to end on a small random GPT (fast, float64): FedAvg's message function differentiates through
// the unrolled local steps of a sequence model (central differences), and LAMP recovers the client's sentences from
// a FedSGD gradient and from a FedAvg update through textCase / runTextAttack, the path `gradleak attack` takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetwork } from '../../src/engine/backend.js';
import { gpt } from '../../src/models/gpt.js';
import { initWeights } from '../../src/models/init.js';
import { parseProtocol, protocolOf } from '../../src/fl/protocols/index.js';
import { NO_DEFENSE } from '../../src/defenses/defense.js';
import { textCase, type TextModel } from '../../src/text/text-case.js';
import { runTextAttack } from '../../src/run/text-run.js';
import { Prng } from '../../src/util/prng.js';
import { checkVjpByDifferences } from '../helpers/message-vjp.js';
import { DEFAULT_ENGINE } from '../../src/engine/backend.js';

const V = 29;
const spec = (T: number) => gpt({ vocab: V, context: T, positions: 10, dim: 8, heads: 2, layers: 1, tied: false });
const SMALL: TextModel = {
  name: 'small-gpt', vocab: V, maxTokens: 9, spec,
  setWeights: (net) => net.setParams(initWeights(net, 'default', 5)),
};
const FEDAVG = parseProtocol({ kind: 'fedavg', steps: 2, lr: 0.5 });

test('FedAvg on a GPT: the VJP of the update through 2 local steps against central differences (dx and soft-label dy)', () => {
  const B = 2, T = 4;
  const net = createNetwork(spec(T), B, { backend: 'ts', dtype: 'float64' });
  const theta = initWeights(net, 'default', 5);
  const fn = protocolOf('fedavg').messageFunction(net, theta, FEDAVG, { alpha: null });
  const x = new Prng(6).fillUniform(new Float64Array(B * T * V), 0, 1);
  checkVjpByDifferences(fn, x, new Prng(7).fillNormal(new Float64Array(B * T * V)), { h: 1e-5, directions: 2, seed: 8 });
});

for (const protocol of [parseProtocol({ kind: 'fedsgd' }), FEDAVG]) {
  test(`LAMP recovers the sentence of a ${protocol.kind} client through textCase and runTextAttack`, () => {
    const truth = { sentences: [[3, 17, 8, 22, 5, 11]], dataset: 'hand', indices: [0] };
    const c = textCase({ model: SMALL, engine: DEFAULT_ENGINE, protocol }, truth);
    assert.deepEqual(c.knowledge.lengths, [6], 'the server knows the shape of the batch');
    const o = runTextAttack(c, {
      attack: 'lamp', iterations: 200, seed: 0, logEvery: 50, restarts: 1, model: SMALL.name, protocol, defense: NO_DEFENSE,
      engine: DEFAULT_ENGINE,
    }, (ids) => ids.map((t) => `<${t}>`).join(''));
    assert.deepEqual(o.metrics.recovered_tokens, truth.sentences);
    assert.equal(o.metrics.tokenAccuracy, 1);
    assert.equal(o.metrics.bag_recall, 1);
    assert.equal(o.history.at(-1)!.iteration, 200);
  });
}

// The one metrics.json schema: what it refuses (a missing score, a field of the other modality, an unknown
// modality) as one line naming the field; real runs of both modalities are validated in test/cli/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMetricsJson } from '../../src/scoring/metrics-schema.js';

const COMMON = {
  attack: 'x', dataset: 'd', index: 3, indices: [3, 4], batch_size: 2, seed: 0, iterations: 10, evaluations: 12, seconds: 0.5, objective: null,
  diverged: true, interrupted: false, restarts: 1, chosen_restart: 0, chosen_seed: 0, restart_objectives: [null],
};
const TEXT = {
  modality: 'text', ...COMMON, model: 'tiny-gpt', protocol: 'FedSGD', defense: 'none', tokenAccuracy: 0.5, rouge1: 0.5, rouge2: 0, rougeL: 0.5, order: [1, 0],
  bag_size: 4, bag_recall: 1, true_text: ['a', 'b'], recovered_text: ['b', 'a'], true_tokens: [[1], [2]], recovered_tokens: [[2], [1]],
};

test('a text metrics.json passes, NaN objectives as null included', () => {
  assert.equal(checkMetricsJson(TEXT).modality, 'text');
});

test('the schema refuses missing, foreign and unknown fields, naming the first', () => {
  const { rouge2: _, ...noRouge2 } = TEXT;
  assert.throws(() => checkMetricsJson(noRouge2), /metrics\.json: rouge2: /);
  assert.throws(() => checkMetricsJson({ ...TEXT, psnr: 20 }), /metrics\.json: .*psnr/);
  assert.throws(() => checkMetricsJson({ ...TEXT, modality: 'audio' }), /metrics\.json: modality: /);
  assert.throws(() => checkMetricsJson({ ...TEXT, tokenAccuracy: 1.5 }), /metrics\.json: tokenAccuracy: /);
  assert.throws(() => checkMetricsJson({ ...TEXT, modality: 'image' }), /metrics\.json: /);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientCase } from '../../src/case/client.js';
import { capturedCase } from '../../src/case/captured.js';
import type { ServerKnowledge } from '../../src/case/case.js';
import { createNetwork } from '../../src/engine/backend.js';
import type { Network } from '../../src/engine/network.js';
import type { WasmKernels } from '../../src/engine/wasm-kernels.js';
import { FedSgdMessage } from '../../src/fl/message.js';
import type { MessageFile } from '../../src/fl/captured.js';
import { messageFileAlpha } from '../../src/fl/captured.js';
import { privateBatch, SETUP } from './helpers.js';

/** Whether `image` (float64 values) lies anywhere in the network's WebAssembly memory, e.g. as a layer's input. */
function holds(net: Network, image: Float64Array): boolean {
  const all = new Float64Array((net.kernels as WasmKernels).memory.buffer);
  const k = image.findIndex((v) => v !== 0);
  for (let i = k; i < all.length - image.length + k; i++) {
    if (all[i] === image[k] && image.every((v, j) => all[i - k + j] === v)) return true;
  }
  return false;
}

/** Every typed array reachable from the knowledge's own fields (the network aside). */
function arraysOf(k: ServerKnowledge): Float64Array[] {
  const { net: _, ...rest } = k;
  const out: Float64Array[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Float64Array) out.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(rest);
  return out;
}

test('a client case: the server knows the model, the weights and the message, never the private batch', () => {
  const batch = privateBatch(2);
  const { knowledge: k, truth } = clientCase(SETUP, batch);
  const image0 = batch.images.subarray(0, 64);
  // the server's network is its own: the client's, which trained on the batch, holds it
  assert.ok(!holds(k.net, image0), 'the server network holds a private image');
  const client = createNetwork(k.net.spec, 2, SETUP.engine);
  client.setParams(k.theta);
  const gradient = Float64Array.from(new FedSgdMessage(client).message(batch.images, { kind: 'hard', classes: batch.labels }));
  assert.ok(holds(client, image0), 'the scan finds an image a network ran on');
  assert.deepEqual(k.observed, gradient, 'the message is the client\'s gradient');
  for (const a of arraysOf(k)) assert.ok(a !== truth.images && !(a.length === truth.images.length && a.every((v, i) => v === truth.images[i])));
  assert.equal(k.labels, undefined, 'labels only when the threat model gives them');
  assert.equal(k.defense, undefined);
  assert.deepEqual(clientCase(SETUP, batch, { labelsKnown: true }).knowledge.labels, batch.labels);
  // the truth, for scoring
  assert.deepEqual({ ...truth, images: [...truth.images] }, { images: [...batch.images], labels: batch.labels, shape: [1, 8, 8], dataset: 'synthetic', index: 10, indices: [10, 11] });
});

test('a client case: the server knows a defense only when it is adaptive, and the message is the defended one', () => {
  const batch = privateBatch(1);
  const plain = clientCase(SETUP, batch).knowledge;
  const noisy = clientCase({ ...SETUP, defense: { name: 'gaussian', strength: 1e-2, adaptive: false } }, batch).knowledge;
  assert.equal(noisy.defense, undefined);
  assert.ok(noisy.observed.some((v, i) => v !== plain.observed[i]));
  const prune = { name: 'prune' as const, strength: 0.5, adaptive: true };
  assert.deepEqual(clientCase({ ...SETUP, defense: prune }, batch).knowledge.defense, prune);
});

test('a captured case: the file\'s knowledge for the attacker, its ground truth for scoring only', () => {
  const batch = privateBatch(1);
  const { knowledge: k } = clientCase({ ...SETUP, protocol: { kind: 'fedadmm', steps: 1, lr: 0.1, rho: 0.1 } }, batch);
  const past = Float64Array.from(k.observed, (v) => v / 2);
  const m: MessageFile = {
    model: k.net.spec, protocol: k.protocol, client: 3, round: 2, batchSize: 1, theta: k.theta, message: k.observed, pastRounds: [1], pastMessages: [past],
    groundTruth: { dataset: 'mnist', split: 'train', indices: [4005], shape: [1, 8, 8], labels: batch.labels, images: [batch.images] },
  };
  const c = capturedCase(m, SETUP.engine);
  assert.deepEqual(c.knowledge.alpha, messageFileAlpha(m), 'the dual rebuilt from the past increments');
  assert.equal(capturedCase(m, SETUP.engine, { dual: 'zero' }).knowledge.alpha, null);
  assert.equal(c.knowledge.labels, undefined);
  assert.deepEqual(capturedCase(m, SETUP.engine, { labelsKnown: true }).knowledge.labels, batch.labels);
  assert.ok(!holds(c.knowledge.net, batch.images));
  for (const a of arraysOf(c.knowledge)) assert.ok(!(a.length === batch.images.length && a.every((v, i) => v === batch.images[i])));
  assert.deepEqual(c.truth, { images: batch.images, labels: batch.labels, shape: [1, 8, 8], dataset: 'mnist', index: 4005 });
});

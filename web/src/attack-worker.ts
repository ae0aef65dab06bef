// The page's Web Worker: one attack, by the library's own runAttack on the WebAssembly kernels, the same
// code path as `gradleak attack`; every logged iteration is posted as it happens. A malicious server's construction is
// estimated here from its public images (imprint-demo.ts).
import { batchOf, runAttack, type PrivateBatch } from '../../src/run/image-run.js';
import { mnistTest } from './mnist-subset.js';
import { serverPublicImages } from './imprint-demo.js';
import type { AttackRequest, PrivateInput, WorkerReply } from './worker-messages.js';

const post = (m: WorkerReply) => (self as unknown as Worker).postMessage(m);

async function privateBatch(input: PrivateInput): Promise<PrivateBatch> {
  if (input.kind === 'mnist') return batchOf(mnistTest, [input.index]);
  if (input.kind === 'mnist-batch') return batchOf(mnistTest, Array.from({ length: input.count }, (_, i) => i));
  return { images: input.image, labels: [input.label], indices: [0], shape: [1, 28, 28], numClasses: 10, dataset: 'image' };
}

self.onmessage = async (e: MessageEvent<AttackRequest>) => {
  try {
    const { input, construction } = e.data;
    const cfg = construction ? { ...e.data.cfg, malicious: { request: construction, public: await serverPublicImages() } } : e.data.cfg;
    const batch = await privateBatch(input);
    post({ kind: 'start', groundTruth: batch.images, label: batch.labels[0]! });
    const outcome = runAttack(cfg, batch, (row, _restart, x) => post({ kind: 'progress', row, x: Float64Array.from(x) }));
    post({ kind: 'done', outcome });
  } catch (err) {
    post({ kind: 'error', message: (err as Error).message });
  }
};

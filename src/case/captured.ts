// The case of a captured message (fl/captured.ts: gradleak simulate --capture, or a .safetensors message and its
// model): the file holds what the server saw, and the client's true batch, which goes to scoring only.
import type { EngineOptions } from '../engine/backend.js';
import { messageFileAlpha, stackedImages, type MessageFile } from '../fl/captured.js';
import type { Case, ServerKnowledge, ThreatModel } from './case.js';
import { serverNetwork } from './server-network.js';

export function capturedCase(m: MessageFile, engine: EngineOptions, threat: ThreatModel = {}): Case {
  const g = m.groundTruth;
  const knowledge: ServerKnowledge = {
    net: serverNetwork(m.model, m.batchSize, engine, m.theta, m.buffers), theta: m.theta, protocol: m.protocol,
    alpha: threat.dual === 'zero' ? null : messageFileAlpha(m), observed: m.message,
    ...(m.clientBuffers ? { clientBuffers: m.clientBuffers } : {}), ...(threat.defense?.adaptive ? { defense: threat.defense } : {}), ...(threat.labelsKnown ? { labels: [...g.labels] } : {}),
    ...(threat.construction ? { construction: threat.construction } : {}),
  };
  // a capture's per-image scores are by position in the batch
  return { knowledge, truth: { images: stackedImages(g), labels: g.labels, shape: g.shape, dataset: g.dataset, index: g.indices[0] ?? 0 } };
}

// One text attack on tiny-gpt: its client's case for a batch of sentences (the shipped weights or a train-lm file),
// then the attack and its scores, texts decoded with the shipped vocabulary. What `gradleak attack` (in its worker
// thread), bench --text and a text sweep job each run.
import { tinyGptTextModel } from '../text/tiny-gpt-model.js';
import { textCase, type TextBatch } from '../text/text-case.js';
import { runTextAttack, type TextOutcome, type TextRunConfig } from './text-run.js';
import type { TextOnLog } from '../text/text-attacker.js';
import { decodeIds } from '../text/vocabulary.js';

export function attackTinyGpt(cfg: TextRunConfig, batch: TextBatch, weightsFile?: string, onLog?: TextOnLog, shouldStop?: () => boolean): TextOutcome {
  const c = textCase({ model: tinyGptTextModel(weightsFile), engine: cfg.engine, protocol: cfg.protocol, defense: cfg.defense }, batch);
  return runTextAttack(c, cfg, decodeIds, onLog, shouldStop);
}

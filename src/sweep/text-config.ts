// The checks of a text sweep (`dataset: text`): the text attacks on tiny-gpt, sentences of the text dataset,
// and none of the keys that only image sweeps read. The other way round too: text attacks, tiny-gpt and
// `sentences` need `dataset: text`. Each error is a ConfigError at the key it is about.
import { isTextAttack, TEXT_ATTACKS } from '../text/text-attacks.js';
import { textSentenceCount } from '../text/sentences.js';
import { ConfigError } from './config-error.js';

export const TEXT_MODEL = 'tiny-gpt';

/** The keys of a config that tell text from image sweeps (as parsed, before defaults). */
export interface DatasetKeys {
  dataset: string;
  models?: readonly { model: string; width?: number; stem?: string; bn?: string }[];
  attacks?: readonly string[];
  images?: readonly number[];
  sentences?: readonly number[];
  split?: string;
  dataRoot?: string;
  modelSeed?: number;
}

/** Keys an image sweep reads and a text sweep has no use for, with the reason. */
const IMAGE_ONLY_KEYS = {
  split: 'its sentences are the corpus\'s test split',
  dataRoot: 'its sentences ship with gradleak',
  modelSeed: `${TEXT_MODEL} has trained weights`,
} as const;

/** Rejects text attacks, tiny-gpt and `sentences` in an image sweep. */
export function checkImageSweep(c: DatasetKeys): void {
  const a = c.attacks?.findIndex(isTextAttack) ?? -1;
  if (a >= 0) throw new ConfigError(['attacks', a], `${c.attacks![a]} is a text attack: it needs dataset: text, not ${c.dataset}`);
  const m = c.models?.findIndex((x) => x.model === TEXT_MODEL) ?? -1;
  if (m >= 0) throw new ConfigError(['models', m], `${TEXT_MODEL} is a language model: it needs dataset: text, not ${c.dataset}`);
  if (c.sentences !== undefined) throw new ConfigError(['sentences'], `sentences apply to dataset text only; ${c.dataset} has images (key images)`);
}

/** Checks a text sweep's keys; returns its sentence indices (given as `sentences`, or as `images`). */
export function checkTextSweep(c: DatasetKeys, defaultSentences: readonly number[]): number[] {
  c.models?.forEach((m, i) => {
    if (m.model !== TEXT_MODEL) throw new ConfigError(['models', i], `text sweeps run on ${TEXT_MODEL} (the zoo's language model), not ${m.model}`);
    const option = (['width', 'stem', 'bn'] as const).find((k) => m[k] !== undefined);
    if (option) throw new ConfigError(['models', i, option], `does not apply to ${TEXT_MODEL}`);
  });
  c.attacks?.forEach((a, i) => {
    if (!isTextAttack(a)) throw new ConfigError(['attacks', i], `${a} is an image attack; on dataset text use ${TEXT_ATTACKS.join(', ')}`);
  });
  for (const [key, why] of Object.entries(IMAGE_ONLY_KEYS)) {
    if (c[key as keyof typeof IMAGE_ONLY_KEYS] !== undefined) throw new ConfigError([key], `does not apply to dataset text (${why})`);
  }
  if (c.images !== undefined && c.sentences !== undefined) throw new ConfigError(['sentences'], 'give the sentence indices once: as sentences or as images, not both');
  const key = c.images !== undefined ? 'images' : 'sentences';
  const sentences = [...(c.images ?? c.sentences ?? defaultSentences)];
  const n = textSentenceCount();
  const bad = sentences.findIndex((s) => s >= n);
  if (bad >= 0) throw new ConfigError([key, bad], `sentence ${sentences[bad]} out of range: the text dataset has ${n} sentences (0..${n - 1})`);
  return sentences;
}

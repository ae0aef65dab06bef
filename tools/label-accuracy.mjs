#!/usr/bin/env node
// The README's label-accuracy table: node tools/label-accuracy.mjs [--batch-sizes 4,8] [--batches 10] [--dataset mnist]
// (after npm run build). Prints a markdown table: labels right / total (batches with all labels right).
import { parseArgs } from 'node:util';
import { labelAccuracy } from '../dist/src/experiments/label-accuracy.js';

const { values } = parseArgs({ options: {
  dataset: { type: 'string', default: 'mnist' }, split: { type: 'string', default: 'test' },
  'batch-sizes': { type: 'string', default: '4,8' }, batches: { type: 'string', default: '10' },
  model: { type: 'string', default: 'lenet' },
} });
const batchSizes = values['batch-sizes'].split(',').map(Number);
const methods = ['llg', 'bias-corrected', 'ilrg'];
const rows = await labelAccuracy({ dataset: values.dataset, split: values.split, batchSizes, batches: Number(values.batches), methods, model: { model: values.model } });
console.log(`| method | ${batchSizes.map((B) => `B = ${B}`).join(' | ')} |`);
console.log(`|---|${batchSizes.map(() => '---|').join('')}`);
for (const m of methods) {
  const cells = batchSizes.map((B) => {
    const r = rows.find((x) => x.batchSize === B && x.method === m);
    return r.right === null ? 'cannot run' : `${r.right}/${r.total} (${r.exact}/${values.batches} batches all right)`;
  });
  console.log(`| ${m} | ${cells.join(' | ')} |`);
}

// gradleak malicious-table: the README's table of the malicious-server (and linear-leakage) attacks, measured on
// consecutive MNIST training batches with the server's public images from the test split (experiments/malicious-table.ts).
// Prints the table as Markdown and writes DIR/malicious.csv and DIR/malicious.md.
import { join } from 'node:path';
import { Command } from 'commander';
import { fishingTable, maliciousTable, MALICIOUS_SETTINGS, type MaliciousRow } from '../experiments/malicious-table.js';
import { prepareOutDir, writeText } from '../util/files.js';
import { openFromFlags, type DataFlags } from './data-options.js';
import { positiveInt } from './parse.js';
import { readPublicImages } from './threat-options.js';

const HEADER = ['attack', 'model', 'units', 'B', 'users', 'N', 'batches', 'recovered > 30 dB (mean ± sd)', 'of them exact (> 100 dB)', 'expected (theory)', 'PSNR of recovered (dB)', 'seconds per attack'];

export function maliciousTableCommand(): Command {
  return new Command('malicious-table')
    .description('measure the analytic and malicious-server attacks (linear leakage, imprint through secure aggregation, trap weights) over many MNIST batches, beside what theory expects')
    .option('--batches <n>', 'batches per setting (each a different block of training images)', positiveInt, 20)
    .option('--out <dir>', 'where to write malicious.csv and malicious.md', 'runs/malicious-table')
    .action(async (o: { batches: number; out: string }) => {
      prepareOutDir(o.out);
      const flags = { inputShape: [1, 28, 28] } as DataFlags;
      const pub = await readPublicImages('mnist', 'test', flags, 10_000); // all of the test split: the bins' shares to about 10%
      const data = await openFromFlags('mnist', 'train', flags);
      const lines = [line(HEADER), line(HEADER.map(() => '---'))];
      console.log(lines.join('\n'));
      try {
        const rows = await maliciousTable(data, pub, MALICIOUS_SETTINGS, o.batches, (r) => {
          lines.push(line(cells(r)));
          console.log(lines[lines.length - 1]);
        });
        writeText(join(o.out, 'malicious.md'), `${lines.join('\n')}\n`);
        writeText(join(o.out, 'malicious.csv'), toCsv(rows));
        // class fishing: IG on one dummy, so fewer batches (FISHING_BATCHES) of growing size
        const fish = [line(FISHING_HEADER), line(FISHING_HEADER.map(() => '---'))];
        console.log(`\n${fish.join('\n')}`);
        const fishing = await fishingTable(data, pub, FISHING_SIZES, Math.min(o.batches, FISHING_BATCHES), FISHING_TARGET, FISHING_ITERATIONS, (r) => {
          fish.push(line([String(r.batch), String(r.batches), String(r.target_class), r.targets_mean.toFixed(1), r.target_psnr.toFixed(1), `${r.recovered} of ${r.batches}`, r.seconds.toFixed(1)]));
          console.log(fish[fish.length - 1]);
        });
        writeText(join(o.out, 'fishing.md'), `${fish.join('\n')}\n`);
        writeText(join(o.out, 'fishing.csv'), toCsv(fishing));
        console.log(`wrote ${o.out}/malicious.csv, malicious.md, fishing.csv, fishing.md`);
      } finally {
        data.close?.();
      }
    });
}

const FISHING_HEADER = ['B', 'batches', 'target class', 'target-class images per batch', 'best PSNR of a target image (dB)', 'above 30 dB', 'seconds per attack (IG)'];
const FISHING_SIZES = [8, 32, 128];
const FISHING_BATCHES = 5;
const FISHING_TARGET = 7;
const FISHING_ITERATIONS = 2000;

const line = (c: string[]) => `| ${c.join(' | ')} |`;

function cells(r: MaliciousRow): string[] {
  return [
    r.attack, r.model, r.units === null ? '-' : String(r.units), String(r.batch), String(r.users), String(r.images), String(r.batches),
    `${r.recovered_mean.toFixed(1)} ± ${r.recovered_sd.toFixed(1)}`, r.exact_mean.toFixed(1), r.expected === null ? '-' : r.expected.toFixed(1),
    Number.isNaN(r.psnr_recovered) ? '-' : r.psnr_recovered >= 299.5 ? '300 (cap)' : r.psnr_recovered.toFixed(1), r.seconds.toFixed(3),
  ];
}

function toCsv<R extends object>(rows: R[]): string {
  const keys = Object.keys(rows[0]) as (keyof R)[];
  return `${keys.join(',')}\n${rows.map((r) => keys.map((k) => (r[k] === null ? '' : typeof r[k] === 'string' ? `"${r[k]}"` : String(r[k]))).join(',')).join('\n')}\n`;
}

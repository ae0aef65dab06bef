// gradleak bench (npm run bench): gradleak against PyTorch on the same machine in the same run.
//  1. one DLG evaluation, LeNet CIFAR-100 shape and MNIST shape, B = 1, a fixed synthetic image;
//  2. full 300-step DLG and iDLG attacks on the same images and dummy seeds;
//  3. with --success: MNIST test images 0-9 x dummy seeds 0-2, success rates side by side;
//  --batches instead: DLG, DLG + restarts and Inverting Gradients on client batches (cli/bench-batches.ts);
//  --text instead: the text attacks on tiny-gpt and PyTorch's reference TAG on sentence batches (cli/bench-text.ts).
// Ratios are gradleak time / PyTorch time (below 1: gradleak is faster).
import { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticRgb, syntheticStroke, quantise8 } from '../bench/synthetic.js';
import { benchAttack, timeDlgEvaluation, timeGraphEvaluation } from '../bench/gradleak-bench.js';
import { DEFAULT_TORCH_SCRIPT, dumpTorchWeights, runTorch, runTorchGraph, torchTwin, torchUnavailable, type TorchAttack, type TorchGraphTiming, type TorchTwin } from '../bench/torch-reference.js';
import { exampleOf, type PrivateExample } from '../run/image-run.js';
import { openMnist } from '../data/mnist.js';
import { writeImagePng } from '../report/png.js';
import type { DType } from '../engine/kernels.js';
import { DEFAULT_BACKEND, DEFAULT_DTYPE, DEFAULT_ENGINE } from '../engine/backend.js';
import { DEFAULT_MODEL_SEED } from '../models/init.js';
import { SUCCESS_MSE } from '../metrics/success.js';
import { oneOf, oneOfList, positiveInt, positiveIntList } from './parse.js';
import { MODEL_NAMES, STEMS } from '../models/zoo.js';
import { BN_MODES, type BnMode } from '../engine/graph.js';
import type { ModelChoice } from '../models/load.js';
import { formatTable } from './table.js';
import { batchesTable } from './bench-batches.js';
import { TORCH_BATCH_SCRIPT } from '../bench/torch-batch.js';
import { TEXT_ATTACKS, TEXT_ITERATIONS } from '../text/text-attacks.js';
import { TEXT_BENCH_DEFAULTS, TEXT_BENCH_QUICK } from '../bench/text-bench.js';
import { checkTextFlags, textBenchAction } from './bench-text.js';
import { DEFAULT_ITERATIONS } from '../attacks/presets.js';

const SHAPES = {
  cifar: { shape: [3, 32, 32] as [number, number, number], numClasses: 100 },
  mnist: { shape: [1, 28, 28] as [number, number, number], numClasses: 10 },
};
type ShapeName = keyof typeof SHAPES;
const METHODS: ('dlg' | 'idlg')[] = ['dlg', 'idlg'];

interface AttackStats {
  runs: number;
  rssMb?: { start: number; end: number };
  success: number;
  medianEvals: number;
  meanSeconds: number;
  msPerEval: number;
}

function stats(runs: { evals: number; seconds: number; mse: number }[]): AttackStats {
  const evals = runs.map((r) => r.evals).sort((a, b) => a - b);
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  return {
    runs: runs.length,
    success: runs.filter((r) => r.mse < SUCCESS_MSE).length,
    medianEvals: evals[Math.floor(evals.length / 2)],
    meanSeconds: seconds / runs.length,
    msPerEval: (1000 * seconds) / evals.reduce((s, e) => s + e, 0),
  };
}

/** PyTorch's model weights as a JSON file (null without PyTorch: gradleak then uses its own seeded weights). */
function torchWeights(o: { python: string; torchScript: string }, torchWhyNot: string | null, shape: ShapeName, dir: string): string | undefined {
  if (torchWhyNot) return undefined;
  const file = join(dir, `${shape}-weights.json`);
  dumpTorchWeights(o.python, o.torchScript, shape, DEFAULT_MODEL_SEED, file);
  return file;
}

const fromTorch = (a: TorchAttack) => ({ evals: a.evals, seconds: a.attack_seconds, mse: a.final_mse });
const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : '-');
const f = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));

export function benchCommand(): Command {
  return new Command('bench')
    .description('time gradleak against PyTorch (bench/torch_dlg.py, bench/torch_graph_bench.py) on the same settings, and print the ratios')
    .option('--json', 'print all numbers as one JSON line at the end')
    .option('--quick', 'one dummy seed and fewer timing repetitions')
    .option('--seeds <n>', 'dummy seeds 0..n-1 for the full attacks', positiveInt, 3)
    .option('--steps <n>', 'L-BFGS steps per attack', positiveInt, DEFAULT_ITERATIONS)
    .option('--reps <n>', 'repetitions of the single-evaluation timing', positiveInt, 200)
    .option('--success', 'also run MNIST test images 0-9 x seeds 0-2 for success rates (slow with PyTorch)')
    .option('--batches', 'only the batch table: LeNet MNIST B = 1, 4, 8 (dlg, dlg + restarts 3, ig) and resnet20 width 8 on CIFAR-shaped MNIST B = 1, 4 (ig), gradleak and PyTorch (bench/torch_batch.py); --steps iterations each')
    .option('--batch-count <n>', 'client batches per setting of --batches (--quick: 1)', positiveInt, 2)
    .option('--no-torch', 'do not run PyTorch')
    .option('--no-graph', 'skip the ResNet rows (one DLG / Inverting Gradients evaluation on resnet20 and a width-8 resnet20)')
    .option('--graph-reps <n>', 'repetitions of each ResNet timing', positiveInt, 10)
    .option('--model <name|file>', `the graph rows' model instead of resnet20 and its width-8 variant: ${MODEL_NAMES.join(', ')} or a .onnx / .json file (PyTorch times resnet20 and resnet18 only)`)
    .option('--width <w>', 'with --model: channels / hidden units of a model by name', positiveInt)
    .option('--stem <kind>', `with --model resnet18: ${STEMS.join(' or ')}`, oneOf(STEMS))
    .option('--bn <mode>', 'with --model: BatchNorm train (default) or eval', oneOf(BN_MODES))
    .option('--batch-sizes <list>', `batch sizes of the graph rows; with --text, of the text table (default ${TEXT_BENCH_DEFAULTS.batchSizes}; --quick ${TEXT_BENCH_QUICK.batchSizes})`, positiveIntList, [1, 8])
    .option('--text', `only the text table: ${TEXT_ATTACKS.join(', ')} on tiny-gpt and PyTorch's reference TAG (tools/torch_text_tag.py) on batches of consecutive sentences of the text dataset`)
    .option('--sentences <n>', `with --text: sentences 0..n-1 of the text dataset (default ${TEXT_BENCH_DEFAULTS.sentences}; --quick ${TEXT_BENCH_QUICK.sentences}), a multiple of every batch size`, positiveInt)
    .option('--attacks <list>', `with --text: the text attacks, comma-separated (default ${TEXT_ATTACKS.join(',')})`, oneOfList(TEXT_ATTACKS))
    .option('--iterations <n>', `with --text: iterations of every attack (default each attack's own: ${TEXT_ATTACKS.map((a) => `${a} ${TEXT_ITERATIONS[a]}`).join(', ')}; --quick a fiftieth)`, positiveInt)
    .option('--threads <n>', 'with --text: worker threads for gradleak\'s attacks (default 1, so that each is timed on its own core; PyTorch runs alongside on one thread)', positiveInt)
    .option('--python <path>', 'python with torch', '/usr/bin/python3')
    .option('--torch-script <path>', 'the PyTorch reference script', DEFAULT_TORCH_SCRIPT)
    .action(async (o, cmd: Command) => {
      const given = (key: string) => cmd.getOptionValueSource(key) === 'cli';
      checkTextFlags(Boolean(o.text), given);
      if (o.text) return textBenchAction(o, given, (s) => process.stderr.write(s + '\n'));
      const seeds = Array.from({ length: o.quick ? 1 : o.seeds }, (_, i) => i);
      const reps = o.quick ? Math.min(o.reps, 50) : o.reps;
      const dir = mkdtempSync(join(tmpdir(), 'gradleak-bench-'));
      const torchWhyNot = o.torch ? torchUnavailable(o.python, o.batches ? TORCH_BATCH_SCRIPT : o.torchScript) : 'disabled by --no-torch';
      const log = (s: string) => process.stderr.write(s + '\n');
      if (torchWhyNot) log(`PyTorch reference skipped: ${torchWhyNot}`);
      if (o.batches) {
        try {
          const batches = await batchesTable({ iterations: o.steps, batches: o.quick ? 1 : o.batchCount, dir, python: o.python }, torchWhyNot, log);
          if (o.json) console.log(JSON.stringify({ batches }));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        return;
      }
      const report: Record<string, unknown> = { seeds, steps: o.steps, torch: torchWhyNot ?? 'ran', evaluation: [], attacks: [] };
      const evalRows: string[][] = [], attackRows: string[][] = [];
      try {
        // --model: only that model's graph rows (the LeNet rows are the DLG paper's setting)
        for (const name of (o.model ? [] : Object.keys(SHAPES)) as ShapeName[]) {
          const { shape, numClasses } = SHAPES[name];
          const image = quantise8(name === 'cifar' ? syntheticRgb(32, 0) : syntheticStroke(28));
          const example: PrivateExample = { image, label: 7, shape, numClasses, dataset: 'synthetic', index: 0 };
          const png = join(dir, `${name}.png`);
          await writeImagePng(png, image, shape, 1);
          log(`[${name}] timing one DLG evaluation (${reps} reps)...`);
          const ms: Record<DType, number> = {
            float64: timeDlgEvaluation(example, { backend: DEFAULT_BACKEND, dtype: 'float64' }, reps),
            float32: timeDlgEvaluation(example, { backend: DEFAULT_BACKEND, dtype: 'float32' }, reps),
          };
          const torch = torchWhyNot ? null : (log(`[${name}] PyTorch: ${seeds.length} seeds x dlg, idlg...`),
            runTorch({ python: o.python, script: o.torchScript, shape: name, image: png, label: 7, seeds, methods: METHODS, steps: o.steps, timingReps: reps, jsonOut: join(dir, `${name}.json`), attacks: true }));
          const tms = torch?.closureMedianMs.dlg;
          const weightsFile = torchWeights(o, torchWhyNot, name, dir);
          evalRows.push([`DLG ${name} B=1`, f(ms.float64, 3), f(ms.float32, 3), f(tms, 3), ratio(ms.float64, tms), ratio(ms.float32, tms)]);
          (report.evaluation as unknown[]).push({ shape: name, gradleak_ms: ms, torch_ms: tms ?? null });
          for (const method of METHODS) {
            log(`[${name}] gradleak ${method}: ${seeds.length} seeds...`);
            let rssMb = { start: 0, end: 0 };
            const ours: AttackStats = stats(seeds.map((s) => {
              const b = benchAttack(method, example, s, { engine: DEFAULT_ENGINE, iterations: o.steps, weightsFile });
              rssMb = b.rssMb;
              return { evals: b.metrics.evaluations, seconds: b.metrics.seconds, mse: b.metrics.mse };
            }));
            ours.rssMb = rssMb;
            const theirs = torch ? stats(torch.attacks.filter((a) => a.method === method).map(fromTorch)) : undefined;
            attackRows.push([
              `${method} ${name}`, String(ours.medianEvals), f(ours.msPerEval), f(ours.meanSeconds), `${ours.success}/${ours.runs}`,
              theirs ? String(theirs.medianEvals) : '-', f(theirs?.msPerEval), f(theirs?.meanSeconds), theirs ? `${theirs.success}/${theirs.runs}` : '-',
              ratio(ours.msPerEval, theirs?.msPerEval), ratio(ours.meanSeconds, theirs?.meanSeconds),
              `${rssMb.start.toFixed(0)}->${rssMb.end.toFixed(0)}`,
            ]);
            (report.attacks as unknown[]).push({ shape: name, method, precision: DEFAULT_DTYPE, gradleak: ours, torch: theirs ?? null });
          }
        }
        if (!o.model) {
          console.log('\nOne DLG evaluation (D and dD/dx\', dD/dy\'), median ms; ratio = gradleak / PyTorch (1 thread)');
          console.log(formatTable(['setting', 'gradleak f64', 'gradleak f32', 'PyTorch', 'ratio f64', 'ratio f32'], evalRows));
          console.log(`\nFull attacks, ${o.steps} L-BFGS steps, seeds ${seeds.join(',')}, gradleak ${DEFAULT_DTYPE}; success = MSE < ${SUCCESS_MSE};`);
          console.log('RSS: gradleak resident memory after the first and the last tenth of the last attack');
          console.log(torchWhyNot ? `Model: gradleak's LeNet weights (model seed ${DEFAULT_MODEL_SEED}).` : `Model: both attack the same LeNet, PyTorch's weights (torch seed ${DEFAULT_MODEL_SEED}); only the dummy initialisation streams differ.`);
          console.log(formatTable(['attack', 'evals', 'ms/eval', 's/attack', 'success', 'torch evals', 'ms/eval', 's/attack', 'success', 'ratio/eval', 'ratio/attack', 'RSS MB'], attackRows));
        }
        if (o.graph || o.model) report.graph = graphTable(o, graphSettings(o), torchWhyNot, o.quick ? Math.min(3, o.graphReps) : o.graphReps, log);
        if (o.success) report.success = await successTable(o, torchWhyNot, dir, log);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      if (o.json) console.log(JSON.stringify(report));
    });
}

/** One row of the graph table: a model at a batch size, and its PyTorch twin (or why there is none). */
interface GraphSetting {
  name: string;
  choice: ModelChoice;
  batch: number;
  twin: TorchTwin | string;
}

/** The default rows (resnet20 and a width-8 resnet20 at B = 1, 8), or --model at each of --batch-sizes. */
function graphSettings(o: { model?: string; width?: number; stem?: string; bn?: BnMode; batchSizes: number[] }): GraphSetting[] {
  const choices: { name: string; choice: ModelChoice }[] = o.model
    ? [{ name: [o.model, o.width ? `width ${o.width}` : '', o.stem ? `stem ${o.stem}` : ''].filter(Boolean).join(' '), choice: { model: o.model, width: o.width, stem: o.stem as never, bn: o.bn } }]
    : [{ name: 'resnet20', choice: { model: 'resnet20' } }, { name: 'resnet20 width 8', choice: { model: 'resnet20', width: 8 } }];
  return choices.flatMap((c) => o.batchSizes.map((batch) => {
    // PyTorch's twin trains with batch statistics: an eval-mode comparison would not be like for like
    const twin = c.choice.bn === 'eval' ? 'the PyTorch side times train-mode BatchNorm only' : torchTwin(c.choice);
    return { ...c, batch, twin };
  }));
}

/** Graph models at 3x32x32, BatchNorm in train mode: one l2 (DLG) and one cosine (IG) evaluation, gradleak against PyTorch. */
function graphTable(o: { python: string }, settings: GraphSetting[], torchWhyNot: string | null, reps: number, log: (s: string) => void) {
  const rows: string[][] = [], out: unknown[] = [];
  for (const st of settings) {
    log(`[graph] ${st.name} B=${st.batch}: gradleak...`);
    const time = (objective: 'l2' | 'cosine', dtype: DType) => timeGraphEvaluation(st.choice, { batch: st.batch, objective, reps, engine: { backend: DEFAULT_BACKEND, dtype } });
    const ours = { l2: time('l2', 'float64'), cosine: time('cosine', 'float64'), l2f32: time('l2', 'float32') };
    let torch: TorchGraphTiming | null = null;
    const whyNot = torchWhyNot ?? (typeof st.twin === 'string' ? st.twin : null);
    if (whyNot) log(`[graph] ${st.name}: PyTorch skipped (${whyNot})`);
    else {
      log(`[graph] ${st.name} B=${st.batch}: PyTorch...`);
      torch = runTorchGraph(o.python, st.twin as TorchTwin, st.batch, 1, reps);
    }
    rows.push([`${st.name} B=${st.batch}`, String(ours.l2.params), f(ours.l2.ms, 1), f(ours.l2f32.ms, 1), f(ours.cosine.ms, 1), f(torch?.median_ms_l2, 1), f(torch?.median_ms_cosine, 1),
      ratio(ours.l2.ms, torch?.median_ms_l2), ratio(ours.l2f32.ms, torch?.median_ms_l2), ratio(ours.cosine.ms, torch?.median_ms_cosine)]);
    out.push({ model: st.name, batch: st.batch, params: ours.l2.params, gradleak_ms: { l2_f64: ours.l2.ms, l2_f32: ours.l2f32.ms, cosine_f64: ours.cosine.ms }, torch_ms: torch, torch_skipped: whyNot });
  }
  console.log('\nGraph models, 3x32x32 (an ONNX file: its own input), BatchNorm train mode unless --bn eval: one evaluation (loss, gradient, Hessian-vector product), median ms; PyTorch float32, 1 thread');
  console.log(formatTable(['model', 'params', 'l2 f64', 'l2 f32', 'cosine f64', 'torch l2', 'torch cosine', 'ratio l2 f64', 'ratio l2 f32', 'ratio cosine'], rows));
  return out;
}

/** MNIST test images 0-9 x dummy seeds 0-2: DLG and iDLG success rate and label accuracy. */
async function successTable(o: { steps: number; python: string; torchScript: string }, torchWhyNot: string | null, dir: string, log: (s: string) => void) {
  const seeds = [0, 1, 2];
  // gradleak variants: plain DLG/iDLG in each precision, and best of 3 restarts (chosen by the objective)
  const variants = [
    { name: 'float64', dtype: 'float64' as DType, restarts: 1 },
    { name: 'float32', dtype: 'float32' as DType, restarts: 1 },
    { name: 'float64 best-of-3', dtype: 'float64' as DType, restarts: 3 },
  ];
  type Tally = { ok: number; label: number; n: number };
  const tally = () => Object.fromEntries(METHODS.map((m) => [m, { ok: 0, label: 0, n: 0 }])) as Record<(typeof METHODS)[number], Tally>;
  const add = (t: Tally, mse: number, labelOk: boolean) => {
    t.n++;
    t.ok += mse < SUCCESS_MSE ? 1 : 0;
    t.label += labelOk ? 1 : 0;
  };
  const ours = variants.map(tally);
  const theirs = tally();
  const weightsFile = torchWeights(o, torchWhyNot, 'mnist', dir);
  const data = openMnist('test');
  for (let index = 0; index < 10; index++) {
    const example = await exampleOf(data, index);
    log(`[success] MNIST test #${index}: gradleak...`);
    for (const method of METHODS) {
      variants.forEach((v, i) => {
        for (const seed of seeds) {
          const m = benchAttack(method, example, seed, { engine: { backend: DEFAULT_BACKEND, dtype: v.dtype }, iterations: o.steps, restarts: v.restarts, weightsFile }).metrics;
          add(ours[i][method], m.mse, m.label_correct);
        }
      });
    }
    if (torchWhyNot) continue;
    log(`[success] MNIST test #${index}: PyTorch...`);
    const png = join(dir, `mnist-${index}.png`);
    await writeImagePng(png, example.image, example.shape, 1);
    const t = runTorch({ python: o.python, script: o.torchScript, shape: 'mnist', image: png, label: example.label, seeds, methods: METHODS, steps: o.steps, timingReps: 5, jsonOut: join(dir, `s${index}.json`), attacks: true });
    for (const a of t.attacks) {
      const pred = a.method === 'idlg' ? t.inferredLabel : a.dummy_label_argmax?.[0];
      add(theirs[a.method], a.final_mse, pred === example.label);
    }
  }
  data.close();
  const cell = (t: Tally) => (t.n ? `${t.ok}/${t.n} (labels ${t.label}/${t.n})` : '-');
  const rows = METHODS.map((m) => [m, ...ours.map((t) => cell(t[m])), cell(theirs[m])]);
  console.log(`\nMNIST test images 0-9 x dummy seeds 0-2, ${o.steps} steps: success (MSE < ${SUCCESS_MSE}) and label accuracy`);
  console.log(formatTable(['attack', ...variants.map((v) => `gradleak ${v.name}`), 'PyTorch float32'], rows));
  return { variants: variants.map((v, i) => ({ ...v, ...ours[i] })), torch: torchWhyNot ? null : theirs };
}

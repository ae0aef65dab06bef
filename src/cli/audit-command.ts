// gradleak audit --config CONFIG.yaml --out DIR: train the model under every defense setting, attack the captured
// messages of early and late rounds, and write the privacy-utility report (report.html, audit.json, audit.csv).
// Resumable and distributable exactly like `sweep` (its jobs are sweep jobs: audit/run-audit.ts).
import { Command } from 'commander';
import { join } from 'node:path';
import { loadAuditConfig, type AuditConfig } from '../audit/config.js';
import { runAudit, type AuditRun } from '../audit/run-audit.js';
import { checkDeployment } from '../audit/deployment-check.js';
import { summariseAudit, rankedSettings, type AuditSummary } from '../audit/summary.js';
import { writeAuditOutputs } from '../report/audit-report.js';
import { lockSweepDir } from '../sweep/run-sweep.js';
import { prepareOutDir, writeText } from '../util/files.js';
import { GRADLEAK_VERSION } from '../util/version.js';
import { UserError } from '../util/errors.js';
import { addExecutorOptions, executorFrom, type ExecutorFlags } from './executor-options.js';
import { listenForInterrupt } from './interruptible.js';
import { interruptedLines, STOPPING } from './sweep-interrupt.js';
import { formatTable } from './table.js';
import { num, pct } from '../report/sweep-report.js';

export interface AuditOutcome {
  run: AuditRun;
  summary: AuditSummary;
  html: string;
}

/** Runs (or resumes) the audit in `out` and writes its outputs; Ctrl-C stops starting jobs and writes what finished. */
export async function executeAudit(c: AuditConfig, out: string, flags: ExecutorFlags, quiet = false): Promise<AuditOutcome> {
  prepareOutDir(out);
  const unlock = lockSweepDir(out);
  let saved = 0, total = 0;
  const interrupt = listenForInterrupt(() => console.error(STOPPING), () => {
    unlock();
    console.error(interruptedLines(out, saved, total).join('\n'));
  });
  const workers = flags.queue ? `queue ${flags.queue}` : flags.workers;
  try {
    writeText(join(out, 'config.json'), JSON.stringify({ gradleak: GRADLEAK_VERSION, node: process.version, config: c }, null, 2) + '\n');
    let last = '';
    const run = await runAudit({
      config: c, out, executorFor: (jobs) => executorFrom(flags, jobs).executor, shouldStop: () => interrupt.asked,
      onProgress: (phase, p) => {
        [saved, total] = [p.done, p.total];
        const line = `audit: ${phase === 'train' ? 'training' : 'attacking'} ${p.done}/${p.total}`;
        if (!quiet && process.stderr.isTTY && line !== last) process.stderr.write(`\r${line}   `);
        last = line;
      },
    });
    if (!quiet && process.stderr.isTTY) process.stderr.write('\n');
    const summary = summariseAudit(c, run.trained, run.attacked);
    const shape = run.attacked[0]?.shape ?? null;
    const html = await writeAuditOutputs(out, c, summary, { total: run.total, resumed: run.resumed, ran: run.ran, seconds: run.seconds, workers, interrupted: run.interrupted }, shape);
    return { run, summary, html };
  } finally {
    interrupt.dispose();
    unlock();
  }
}

export function auditTable(s: AuditSummary): string {
  return formatTable(['setting', 'epsilon', 'accuracy', 'recovered', 'naive', 'mean worst SSIM', 'median gain dB', 'labels', 'strongest attack'], rankedSettings(s).map((r) => [
    r.id, r.privacy ? `${r.privacy.epsilon.toPrecision(3)} (${r.privacy.adversary})` : '-', num(r.accuracy, 3), `${r.recovered}/${r.samples}`, `${r.recoveredNaive}/${r.samples}`,
    num(r.worstSsim.mean, 3), num(r.worstGain.median, 1), pct(r.labelsRecoveredFraction), r.strongestAttack,
  ]));
}

export function auditCommand(): Command {
  const cmd = new Command('audit')
    .description('privacy-utility audit: train under every defense setting of CONFIG, attack early and late messages (naive and adaptive), report accuracy, worst-case leakage and epsilon (resumable)')
    .argument('[config]', 'the audit configuration, .yaml or .json (or --config)')
    .option('--config <file>', 'the audit configuration (see examples/audit-mnist.yaml)')
    .option('--out <dir>', 'output directory (report.html, audit.json, audit.csv, results.jsonl); rerun to resume', join('runs', 'audit'));
  return addExecutorOptions(cmd)
    .option('--json', 'print the summary as one JSON line')
    .action(async (positional: string | undefined, o: ExecutorFlags & { config?: string; out: string; json?: boolean }) => {
      if (positional && o.config && positional !== o.config) throw new UserError(`two configs given: ${positional} and --config ${o.config}; give one`);
      const file = o.config ?? positional;
      if (!file) throw new UserError('audit needs a config file: gradleak audit --config CONFIG.yaml (see examples/audit-mnist.yaml)');
      const config = loadAuditConfig(file);
      await checkDeployment(config, file);
      const { run, summary, html } = await executeAudit(config, o.out, o);
      if (run.interrupted) {
        console.error(interruptedLines(o.out, run.trained.length + run.attacked.length, run.total, html).join('\n'));
        process.exitCode = 130;
        return;
      }
      if (o.json) {
        console.log(JSON.stringify({ report: html, json: join(o.out, 'audit.json'), csv: join(o.out, 'audit.csv'), total: run.total, resumed: run.resumed, ran: run.ran, seconds: run.seconds, settings: summary.settings.map(({ worstSample: _w, medianSample: _m, accuracyCurve: _c, ...r }) => r) }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
        return;
      }
      console.log(auditTable(summary));
      console.log(`\n${run.total} jobs (${run.resumed} already finished, ${run.ran} run in ${run.seconds.toFixed(1)} s). Reference: ${summary.reference}.\nReport: ${html} (audit.json, audit.csv)`);
    });
}

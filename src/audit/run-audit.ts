// An audit on the sweep system (one experiment system): its jobs are sweep jobs, run by the same executors (threads
// here, or `gradleak worker` processes on a queue) and logged in the same resumable DIR/results.jsonl. It runs in two
// phases, because an attack needs the messages its training captured: first every defense setting's training job,
// then the attack jobs on the captured messages. A rerun skips every job results.jsonl holds, in either phase.
import { isAnalyticAttack } from '../attacks/presets.js';
import { DEFAULT_IMAGE_SHAPE } from '../data/open.js';
import { dataRoot } from '../data/locate.js';
import type { SimulationOptions } from '../fl/simulation.js';
import { REPORT_DELTA } from '../privacy/guarantees.js';
import { runSweep, type Executor, type SweepProgress } from '../sweep/run-sweep.js';
import type { SweepJob, SweepResult } from '../sweep/job.js';
import type { AuditConfig } from './config.js';
import type { AuditSetting } from './settings.js';
import { captureFolder, type AuditAttackJob, type AuditAttackResult, type AuditTrainJob, type AuditTrainResult } from '../sweep/audit-jobs.js';

/** The simulation of one setting: the deployment with the setting's changes, capturing the target clients. */
export function settingSimulation(c: AuditConfig, s: AuditSetting): SimulationOptions {
  const d = s.simulation;
  return {
    dataset: c.dataset, data: { root: c.dataRoot ?? dataRoot().root, shape: DEFAULT_IMAGE_SHAPE },
    protocol: d.protocol ?? c.protocol, clients: c.clients, rounds: c.rounds, fraction: c.fraction, participation: c.participation,
    partition: c.partition, beta: c.beta, batchSize: d.batchSize ?? c.batchSize, serverLr: c.serverLr, seed: c.seed,
    trainSamples: c.trainSamples, testSamples: c.testSamples, activation: c.activation, init: c.init,
    ...(c.model.model && c.model.model !== 'lenet' ? { model: c.model } : {}),
    captures: [], captureParticipants: { rounds: c.captureRounds, clients: c.targets },
    ...(d.defense ? { defense: d.defense } : {}), ...(d.centralDp ? { centralDp: d.centralDp } : {}), ...(d.dpSgd ? { dpSgd: d.dpSgd } : {}),
  };
}

/** Phase 1: one training job per setting. */
export function trainJobs(c: AuditConfig, out: string): AuditTrainJob[] {
  return c.settings.map((s) => {
    const job = { kind: 'audit-train' as const, setting: s.id, simulation: settingSimulation(c, s), delta: c.delta ?? REPORT_DELTA, ...(c.adjacency ? { adjacency: c.adjacency } : {}) };
    return { ...job, captureDir: captureFolder(out, job) };
  });
}

/**
 * Phase 2: on every captured message, every attack with every dummy seed (an analytic attack once: it has no
 * dummies), naive and, where the setting has one, adapted to the defense.
 */
export function attackJobs(c: AuditConfig, trained: readonly AuditTrainResult[]): AuditAttackJob[] {
  const settings = new Map(c.settings.map((s) => [s.id, s]));
  return trained.flatMap((t) => {
    const s = settings.get(t.job.setting)!;
    return t.metrics.captures.flatMap((cap) => c.attacks.flatMap((attack) => {
      const analytic = isAnalyticAttack(attack);
      const versions = [undefined, ...(s.adaptive && !analytic ? [s.adaptive] : [])];
      return versions.flatMap((adaptive) => (analytic ? c.seeds.slice(0, 1) : c.seeds).map((seed): AuditAttackJob => ({
        kind: 'audit-attack', setting: s.id, train: t.key, file: cap.file, client: cap.client, round: cap.round, attack,
        ...(adaptive ? { adaptive } : {}), seed, restarts: c.restarts, iterations: c.iterations, ...(c.lineSearch !== 'none' ? { lineSearch: c.lineSearch } : {}), modelSeed: c.modelSeed, precision: c.precision,
      })));
    }));
  });
}

export interface AuditRun {
  trained: AuditTrainResult[];
  attacked: AuditAttackResult[];
  /** Stopped before every job had finished. */
  interrupted: boolean;
  /** Jobs of both phases: all, found finished at the start, run now. */
  total: number;
  resumed: number;
  ran: number;
  seconds: number;
}

export interface AuditRunOptions {
  config: AuditConfig;
  out: string;
  /** The executor of a phase's jobs (a queue is named after its jobs). */
  executorFor: (jobs: SweepJob[]) => Executor;
  shouldStop?: () => boolean;
  onProgress?: (phase: 'train' | 'attack', p: SweepProgress<SweepResult>) => void;
}

/** Runs (or resumes) both phases; the caller holds the directory's lock. */
export async function runAudit(o: AuditRunOptions): Promise<AuditRun> {
  const train = trainJobs(o.config, o.out);
  const first = await runSweep({
    dir: o.out, jobs: train, executor: o.executorFor(train), locked: true, shouldStop: o.shouldStop,
    onProgress: (p) => o.onProgress?.('train', p),
  });
  const trained = first.results as AuditTrainResult[];
  const done = { total: first.total, resumed: first.resumed, ran: first.ran, seconds: first.seconds };
  if (first.interrupted) return { trained, attacked: [], interrupted: true, ...done };
  const attacks = attackJobs(o.config, trained);
  const second = await runSweep({
    dir: o.out, jobs: attacks, executor: o.executorFor(attacks), locked: true, shouldStop: o.shouldStop,
    onProgress: (p) => o.onProgress?.('attack', p),
  });
  return {
    trained, attacked: second.results as AuditAttackResult[], interrupted: second.interrupted,
    total: done.total + second.total, resumed: done.resumed + second.resumed, ran: done.ran + second.ran, seconds: done.seconds + second.seconds,
  };
}

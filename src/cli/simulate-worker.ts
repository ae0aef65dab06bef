// The worker thread of `gradleak simulate` (see interruptible.ts): the simulation, stoppable at any round boundary.
import { parentPort, workerData } from 'node:worker_threads';
import { runSimulation, type RoundResult, type SimulationOptions, type SimulationResult } from '../fl/simulation.js';
import { serveInterruptible, type Interruptible } from './interruptible.js';

export interface SimulateWorkerData extends Interruptible {
  options: SimulationOptions;
}

const { options, stop } = workerData as SimulateWorkerData;
serveInterruptible<RoundResult, SimulationResult>(parentPort!, stop, (progress, shouldStop) => runSimulation(options, progress, shouldStop));

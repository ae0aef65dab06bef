/** Evaluates the objective at x, writes its gradient into `grad`, returns the value. */
export type Closure = (x: Float64Array, grad: Float64Array) => number;

export interface Optimizer {
  /** One optimiser step ("iteration" in the papers); returns the objective at the step's start. */
  step(closure: Closure): number;
  /** Objective evaluations so far. */
  readonly evaluations: number;
}

// Chooses the kernels behind a network: WebAssembly SIMD (default) or the plain-TS reference.
import { ReferenceKernels, type Arr, type DType, type Kernels } from './kernels.js';
import { WasmKernels } from './wasm-kernels.js';
import { Network } from './network.js';
import type { ImageShape, ModelSpec } from './graph.js';

export type BackendName = 'wasm' | 'ts';
export const BACKENDS: readonly BackendName[] = ['wasm', 'ts'];
export const DTYPES: readonly DType[] = ['float32', 'float64'];

export interface EngineOptions {
  backend: BackendName;
  dtype: DType;
}

export const DEFAULT_BACKEND: BackendName = 'wasm';
/** The default precision of attacks (see README, "Precision"). */
export const DEFAULT_DTYPE: DType = 'float64';
/** The engine everything runs on unless told otherwise: WebAssembly SIMD kernels in float64. */
export const DEFAULT_ENGINE: Readonly<EngineOptions> = Object.freeze({ backend: DEFAULT_BACKEND, dtype: DEFAULT_DTYPE });

/** Reference kernels that also count what a network allocates, to size WebAssembly memory. */
class CountingKernels extends ReferenceKernels {
  allocated = 0;
  override alloc(n: number): Arr {
    this.allocated += n + 4; // + alignment
    return super.alloc(n);
  }
}

/** A network on fresh kernels with room for the network plus `extraElements` of buffers. */
export function createNetwork<In extends readonly number[] = ImageShape>(
  spec: ModelSpec<In>, batch: number, engine: EngineOptions, extraElements = 0,
): Network<In> {
  if (engine.backend === 'ts') return new Network(spec, new ReferenceKernels(engine.dtype), batch);
  return new Network(spec, wasmKernelsFor(engine.dtype, (k) => new Network(spec, k, batch), extraElements), batch);
}

/** WebAssembly kernels with room for what `build` allocates (counted on reference kernels) plus `extraElements`. */
export function wasmKernelsFor(dtype: DType, build: (k: Kernels) => unknown, extraElements = 0): WasmKernels {
  const counter = new CountingKernels(dtype);
  build(counter);
  return new WasmKernels(dtype, counter.allocated + extraElements + 1024);
}

/** A network of the same model on fresh kernels of the same kind and precision as `net`, for another batch size. */
export function networkLike<In extends readonly number[]>(net: Network<In>, batch: number): Network<In> {
  return createNetwork(net.spec, batch, { backend: net.kernels instanceof WasmKernels ? 'wasm' : 'ts', dtype: net.kernels.dtype });
}

/** float64 kernels of the same kind as `like` (for an optimiser's vectors), with room for n elements. */
export function vectorKernelsLike(like: Kernels, elements: number): Kernels {
  return like instanceof WasmKernels ? new WasmKernels('float64', elements) : new ReferenceKernels('float64');
}

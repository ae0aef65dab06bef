// ONNX model files as model descriptions, by decomposition: the nodes are mapped one at a time, in graph
// order (ONNX guarantees a topological order), each op onto engine layers (conv.ts, linear.ts, norm.ts,
// elementwise.ts, sequence.ts) or, for shape arithmetic, onto constants evaluated at import (shapes.ts); then
// fuse.ts joins the patterns the engine computes as one layer. The engine never interprets ONNX.
// Parameter names stay the initializer names (PyTorch's state_dict names with torch.onnx.export): every spec
// node names its tensors in `params`, and is itself named after its ONNX output tensor. A tensor read by two
// nodes is one tied parameter (lm_head = wte); an Identity's output names a parameter of its own when its
// initializer is used elsewhere too (torch.onnx.export merges equal tensors that way).
// Every file problem is a one-line UserError naming the file, the op and the node.
import { readFileSync } from 'node:fs';
import { UserError } from '../../util/errors.js';
import type { AnyModelSpec, BnMode, LayerSpec, ModelSpec } from '../../engine/graph.js';
import { Ctx, type OpFn } from './context.js';
import { convOps } from './conv.js';
import { elementwiseOps } from './elementwise.js';
import { fuse } from './fuse.js';
import { linearOps } from './linear.js';
import { normOps } from './norm.js';
import { decodeModel, dimsOf, tensorData, toNumber } from './read.js';
import { sequenceOps } from './sequence.js';
import { shapeOps } from './shapes.js';
import { graphInput, graphOutput } from './io.js';

export type OnnxTensors = Map<string, { shape: number[]; data: Float64Array }>;

export interface OnnxGraph {
  /** An image model ([C,H,W] in) or a sequence model ([T,V] token weights in, for int token ids [B,T]). */
  spec: AnyModelSpec;
  /** Every initializer the spec refers to (parameters and BatchNorm running statistics), float64. */
  tensors: OnnxTensors;
  /** The mode of the file's BatchNormalization nodes ('none': it has none). */
  bn: BnMode | 'none';
}

/** An ONNX file of an image model (what --model takes). */
export interface OnnxModel extends OnnxGraph {
  spec: ModelSpec;
}

const OPS: Record<string, OpFn> = { ...shapeOps, ...convOps, ...linearOps, ...elementwiseOps, ...normOps, ...sequenceOps };
const ENGINE_OPS = new Set(['conv2d', 'linear', 'sigmoid', 'tanh', 'relu', 'leaky_relu', 'clip', 'flatten', 'reshape', 'avgpool', 'maxpool',
  'global_avgpool', 'batchnorm', 'add', 'embedding', 'pos_embedding', 'layernorm', 'gelu', 'softmax', 'matmul', 'transpose', 'scale', 'pad', 'const_affine',
  'gather', 'concat', 'sub', 'mul', 'div', 'pow', 'sqrt', 'exp', 'log', 'erf', 'reduce', 'abs', 'elu', 'selu', 'softplus', 'hard_sigmoid']);

/** The model of an ONNX file's bytes, image or sequence (`file` names it in messages). */
export function importOnnxGraph(bytes: Uint8Array, file: string): OnnxGraph {
  const c: Ctx = new Ctx(file);
  const model = decodeModel(bytes);
  if (typeof model === 'string') c.fail(model);
  const graph = model.graph!;
  for (const o of model.opsetImport ?? []) if (!o.domain || o.domain === 'ai.onnx') c.opset = toNumber(o.version);
  for (const t of graph.initializer ?? []) if (t.name) c.values.set(t.name, { kind: 'init', name: t.name, t });
  graphInput(c, graph);
  graph.node!.forEach((n, i) => {
    const op = n.opType ?? '', label = n.name || n.output?.[0] || `#${i}`;
    c.at(n, label);
    const map = OPS[op];
    if ((n.domain && n.domain !== 'ai.onnx') || !map || !Object.hasOwn(OPS, op)) c.fail(`unsupported ONNX op '${n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.` : ''}${op}' (node '${label}')`);
    map(c);
  });
  const out = graphOutput(c, graph);
  const g = fuse(c.ir, out.node, ENGINE_OPS, (where, msg) => c.fail(`${where}: ${msg}`));
  if (!c.inShape) c.fail('the token ids are never read by a Gather from an embedding table');
  const K = out.shape[out.shape.length - 1];
  // a node reads the previous one unless it names its inputs
  const layers = g.nodes.map((n, i): LayerSpec => {
    const prev = i === 0 ? 'input' : g.nodes[i - 1].name;
    const inputs = n.inputs.length === 1 && n.inputs[0] === prev ? {} : { inputs: n.inputs };
    return { type: n.op, ...n.spec, name: n.name, ...inputs } as LayerSpec;
  });
  const tensors: OnnxTensors = new Map();
  for (const l of layers) {
    for (const name of Object.values(l.params ?? {})) {
      const t = c.paramTensors.get(name)!;
      c.here = `initializer '${name}'`;
      tensors.set(name, { shape: dimsOf(t), data: tensorData(t, (m) => c.bad(m)) });
    }
  }
  const modes = [...c.bnModes];
  if (modes.length > 1) c.fail('BatchNormalization nodes mix training_mode 0 and 1');
  return { spec: { in_shape: c.inShape, num_classes: K, layers }, tensors, bn: modes[0] ?? 'none' };
}

/** The image model of an ONNX file's bytes; a sequence model is a UserError (the attacks take images so far). */
export function importOnnx(bytes: Uint8Array, file: string): OnnxModel {
  return imageModel(importOnnxGraph(bytes, file), file);
}

/** Reads and maps an ONNX file (image or sequence model). */
export function readOnnxGraph(path: string): OnnxGraph {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`${path}: cannot read the ONNX model (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return importOnnxGraph(bytes, path);
}

/** Reads and maps an ONNX file of an image model. */
export function readOnnxModel(path: string): OnnxModel {
  return imageModel(readOnnxGraph(path), path);
}

function imageModel(m: OnnxGraph, file: string): OnnxModel {
  const { in_shape } = m.spec;
  if (in_shape.length !== 3) throw new UserError(`${file}: a sequence model (token ids [B,${in_shape[0]}] in); this takes image models [B,C,H,W]`);
  return m as OnnxModel;
}

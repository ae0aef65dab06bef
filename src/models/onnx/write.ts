// A gradleak network as an ONNX file, the reverse of the importer (index.ts): one ONNX node per engine node
// (n - 1 Adds for an add of n inputs), nothing folded or fused, so a client can train the exported graph as it
// is. Parameters and BatchNorm running statistics are float32 initializers named exactly as gradleak (and
// PyTorch's state_dict) names them, in PyTorch's layouts: a linear weight [out, in] is a Gemm's B with transB=1,
// a conv weight [O, C, kH, kW]. The input is `input`
// [N, C, H, W], the output `logits` [N, K], N symbolic; IR version 8, opset 13 (BatchNormalization in training
// mode is then the node with its four optional outputs, as torch.onnx.export writes it).
// Hand-written because the mapping from gradleak's layer specs to ONNX ops is ours; the protobuf encoding is
// onnx-proto's (write-proto.ts). An engine node without an ONNX mapping here is a one-line UserError.
import type { onnx as OnnxTypes } from 'onnx-proto';
import { UserError } from '../../util/errors.js';
import type { AnyNetwork } from '../../engine/network.js';
import type { LayerSpec } from '../../engine/graph.js';
import type { Shape } from '../../engine/layers/layer.js';
import { attr, encodeModel, float32Tensor, floatValue, int64Tensor, type Attribute } from './write-proto.js';

export const ONNX_OPSET = 13;

/** The layer types networkToOnnx maps (`act` is ModelSpec.activation). */
export const EXPORTABLE_TYPES = ['conv2d', 'linear', 'relu', 'sigmoid', 'tanh', 'leaky_relu', 'act', 'identity', 'flatten', 'reshape',
  'add', 'maxpool', 'avgpool', 'global_avgpool', 'batchnorm'] as const;

const ACTIVATIONS: Record<string, string> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', identity: 'Identity' };

/** What one engine node's mapping sees: its spec, tensor names and shapes, and where to put ONNX nodes. */
interface NodeContext {
  spec: LayerSpec;
  /** Its input tensors' names and per-sample shapes, its output's name, its parameter and buffer names. */
  inputs: string[];
  inShapes: Shape[];
  output: string;
  params: string[];
  buffers: string[];
  activation: string | undefined;
  emit(opType: string, inputs: string[], outputs: string[], attributes?: Attribute[]): void;
  /** A new int64 initializer (a Reshape target), under a name no other tensor has. */
  int64(base: string, values: number[]): string;
  /** A tensor name no other tensor has. */
  fresh(base: string): string;
  fail(why: string): never;
}

/** kernel_shape, strides and pads of a square window op. */
const window = (k: number, s: number, p: number): Attribute[] => [attr.ints('kernel_shape', [k, k]), attr.ints('strides', [s, s]), attr.ints('pads', [p, p, p, p])];

type Mapping = (c: NodeContext) => void;

const MAPPINGS: Record<(typeof EXPORTABLE_TYPES)[number], Mapping> = {
  conv2d: (c) => {
    const l = c.spec as Extract<LayerSpec, { type: 'conv2d' }>;
    c.emit('Conv', [c.inputs[0], ...c.params], [c.output], [...window(l.kernel, l.stride ?? 1, l.padding ?? 0), attr.ints('dilations', [1, 1]), attr.int('group', 1)]);
  },
  linear: (c) => {
    const l = c.spec as Extract<LayerSpec, { type: 'linear' }>;
    if (c.inShapes[0].length !== 1) c.fail(`a linear layer on a [${c.inShapes[0]}] input per sample has no Gemm form (only flat inputs)`);
    c.emit('Gemm', [c.inputs[0], ...c.params], [c.output], [attr.int('transB', l.layout === 'in_out' ? 0 : 1)]);
  },
  relu: (c) => c.emit('Relu', c.inputs, [c.output]),
  sigmoid: (c) => c.emit('Sigmoid', c.inputs, [c.output]),
  tanh: (c) => c.emit('Tanh', c.inputs, [c.output]),
  identity: (c) => c.emit('Identity', c.inputs, [c.output]),
  act: (c) => {
    const op = ACTIVATIONS[c.activation ?? ''];
    if (!op) c.fail(`the model's activation '${c.activation}' has no ONNX op here`);
    c.emit(op, c.inputs, [c.output]);
  },
  leaky_relu: (c) => c.emit('LeakyRelu', c.inputs, [c.output], [attr.float('alpha', (c.spec as { slope?: number }).slope ?? 0.01)]),
  flatten: (c) => c.emit('Flatten', c.inputs, [c.output], [attr.int('axis', 1)]),
  reshape: (c) => {
    const shape = (c.spec as Extract<LayerSpec, { type: 'reshape' }>).shape;
    c.emit('Reshape', [c.inputs[0], c.int64(`${c.output}.shape`, [-1, ...shape])], [c.output]);
  },
  add: (c) => {
    const rank = c.inShapes[0].length;
    if (c.inShapes.some((s) => s.length !== rank)) c.fail(`inputs of different ranks ([${c.inShapes.join('] and [')}]) broadcast differently once ONNX adds the batch dimension`);
    // a + b + c ...: a chain of two-input Adds, left to right as the engine sums
    let sum = c.inputs[0];
    c.inputs.slice(1).forEach((x, j) => {
      const out = j === c.inputs.length - 2 ? c.output : c.fresh(`${c.output}/sum${j + 1}`);
      c.emit('Add', [sum, x], [out]);
      sum = out;
    });
  },
  maxpool: (c) => {
    const l = c.spec as Extract<LayerSpec, { type: 'maxpool' }>;
    c.emit('MaxPool', c.inputs, [c.output], window(l.kernel, l.stride ?? l.kernel, l.padding ?? 0));
  },
  avgpool: (c) => {
    const l = c.spec as Extract<LayerSpec, { type: 'avgpool' }>;
    const includePad = (l.count_include_pad ?? true) ? 1 : 0;
    c.emit('AveragePool', c.inputs, [c.output], [...window(l.kernel, l.stride ?? l.kernel, l.padding ?? 0), attr.int('count_include_pad', includePad)]);
  },
  global_avgpool: (c) => c.emit('GlobalAveragePool', c.inputs, [c.output]),
  batchnorm: (c) => {
    const l = c.spec as Extract<LayerSpec, { type: 'batchnorm' }>;
    // scale, B, mean, var; in training mode opset 9-13 spell it with all five outputs: Y, the updated running
    // mean and variance, the batch's mean and variance (ONNX's checker allows one output or five)
    const [mean, variance] = c.buffers;
    const extra = [`${mean}.updated`, `${variance}.updated`, `${c.output}.batch_mean`, `${c.output}.batch_var`];
    const outputs = (l.mode ?? 'train') === 'train' ? [c.output, ...extra.map(c.fresh)] : [c.output];
    c.emit('BatchNormalization', [c.inputs[0], ...c.params, mean, variance], outputs, [attr.float('epsilon', l.eps ?? 1e-5), attr.float('momentum', 0.9)]);
  },
};

/**
 * The ONNX model of `net` with parameters `theta` (laid out as net.params) and buffers (as net.buffers; default
 * net.bufferValues, the BatchNorm running statistics). Image models only: input [N, C, H, W], output [N, K].
 */
export function networkToOnnx(net: AnyNetwork, theta: Float64Array, buffers: Float64Array = net.bufferValues): Uint8Array {
  const { spec, nodes } = net;
  if (theta.length !== net.paramCount) throw new Error(`networkToOnnx: expected ${net.paramCount} parameters, got ${theta.length}`);
  if (buffers.length !== net.bufferValues.length) throw new Error(`networkToOnnx: expected ${net.bufferValues.length} buffer values, got ${buffers.length}`);
  if (spec.in_shape.length !== 3) throw new UserError(`networkToOnnx: only image models ([C,H,W] in) are exported, this one takes [${spec.in_shape}]`);
  const outShape = nodes[nodes.length - 1].layer.outShape;
  if (outShape.length !== 1) throw new UserError(`networkToOnnx: only [K] logits per sample are exported, this model outputs [${outShape}]`);
  const initializer: OnnxTypes.ITensorProto[] = [
    ...net.params.map((p) => float32Tensor(p.name, p.shape, theta.subarray(p.offset, p.offset + p.size))),
    ...net.buffers.map((b) => float32Tensor(b.name, b.shape, buffers.subarray(b.offset, b.offset + b.size))),
  ];
  const taken = new Set(['input', 'logits', ...initializer.map((t) => t.name!)]);
  const fresh = (base: string): string => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}#${k}`;
    taken.add(name);
    return name;
  };
  const graphNodes: OnnxTypes.INodeProto[] = [];
  const tensorNames = ['input'], shapes: Shape[] = [spec.in_shape];
  nodes.forEach((node, i) => {
    const layerSpec = spec.layers[i], type = String(layerSpec.type);
    const output = i === nodes.length - 1 ? 'logits' : fresh(node.label);
    const fail = (why: string): never => {
      throw new UserError(`networkToOnnx: node ${i} (${node.label}, ${type}) cannot be exported: ${why}`);
    };
    const mapping = Object.hasOwn(MAPPINGS, type) ? MAPPINGS[type as keyof typeof MAPPINGS] : undefined;
    if (!mapping) return fail(`no ONNX mapping for '${type}' (supported: ${EXPORTABLE_TYPES.join(', ')})`);
    let part = 0;
    mapping({
      spec: layerSpec, output, activation: spec.activation,
      inputs: node.inputs.map((t) => tensorNames[t]), inShapes: node.inputs.map((t) => shapes[t]),
      params: node.paramNames, buffers: node.bufferNames,
      emit: (opType, inputs, outputs, attribute = []) => {
        graphNodes.push({ opType, name: part++ === 0 ? output : fresh(`${output}/${opType}`), input: inputs, output: outputs, attribute });
      },
      int64: (base, values) => {
        const name = fresh(base);
        initializer.push(int64Tensor(name, values));
        return name;
      },
      fresh, fail,
    });
    tensorNames.push(output);
    shapes.push(node.layer.outShape);
  });
  const graph: OnnxTypes.IGraphProto = {
    name: 'gradleak', node: graphNodes, initializer,
    input: [floatValue('input', ['N', ...spec.in_shape])],
    output: [floatValue('logits', ['N', spec.num_classes])],
  };
  return encodeModel(graph, ONNX_OPSET, 'gradleak');
}

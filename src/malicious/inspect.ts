// inspect-model: does a model a client received carry a known malicious structure? A malicious server can send weights
// whose gradients leak the client's inputs analytically:
//   imprint        Fowl, Geiping, Czaja, Goldblum, Goldstein, "Robbing the Fed", ICLR 2022
//   trap weights   Boenisch, Dziedzic, Schuster, Shamsabadi, Shumailov, Papernot, "When the Curious Abandon Honesty",
//                  EuroS&P 2023
//   class fishing  Wen, Geiping, Fowl, Goldblum, Goldstein, "Fishing for User Data in Large-Batch Federated
//                  Learning via Gradient Magnification", ICML 2022
// Every fully connected layer (and conv layer, for identical filters) gets the checks of inspect-checks.ts that apply
// to it. These are the constructions as published and as gradleak emits them (malicious/construction.ts); attacks
// built to hide (SEER, Garov et al., ICLR 2024) leave none of these marks, so no finding is no guarantee.
import type { BuiltNode } from '../engine/graph.js';
import type { Linear } from '../engine/layers/linear.js';
import type { AnyNetwork } from '../engine/network.js';
import {
  biasLadder, classFishing, identicalColumns, identicalRows, MIN_IMPRINT_ROWS, trapRows, type CheckName, type CheckScore, type WeightMatrix,
} from './inspect-checks.js';
import { MIN_LENGTH } from './row-clusters.js';

export { CHECK_NAMES, FLAG_SCORE, type CheckName, type CheckScore } from './inspect-checks.js';

export interface LayerInspection {
  /** The layer's parameter prefix (e.g. fc1, imprint.measure), else its node label. */
  layer: string;
  kind: 'linear' | 'conv2d';
  /** The weight's shape as stored. */
  shape: number[];
  checks: CheckScore[];
  flagged: boolean;
  /** The constructions its flagged checks point to (imprint, trap weights, class fishing). */
  structures: string[];
}

export interface Inspection {
  flagged: boolean;
  layers: LayerInspection[];
  /** One per flagged layer: "fc1: imprint (identical-rows, bias-ladder)". */
  findings: string[];
}

export const STRUCTURE_OF: Record<CheckName, string> = {
  'identical-rows': 'imprint', 'bias-ladder': 'imprint', 'identical-columns': 'imprint', 'trap-rows': 'trap weights', 'class-fishing': 'class fishing',
};

/** What the inspection cannot see, for every report. */
export const INSPECTION_NOTE = 'attacks built to hide (e.g. SEER, Garov et al., ICLR 2024) leave none of these marks: no finding is no guarantee that the model is benign';

interface Found {
  node: BuiltNode;
  index: number;
  w: WeightMatrix;
  bias: Float64Array | null;
  shape: number[];
}

export function inspectModel(net: AnyNetwork, theta: Float64Array): Inspection {
  if (theta.length !== net.paramCount) throw new Error(`theta has ${theta.length} values, the model ${net.paramCount}`);
  const found = weightLayers(net, theta);
  const lastParam = Math.max(...net.nodes.map((n, i) => (n.paramNames.length > 0 ? i : -1)));
  const rowGroups = new Map<number, number[]>();
  const layers = found.map((f): LayerInspection => {
    const checks: CheckScore[] = [];
    let group: number[] = [], paired: number[] = [];
    if (f.w.cols >= MIN_LENGTH) {
      const rows = identicalRows(f.w);
      checks.push(rows.score);
      paired = rows.clusters.paired;
      group = rows.clusters.largest.length > 1 ? rows.clusters.largest : [];
      if (f.bias && group.length >= MIN_IMPRINT_ROWS) checks.push(biasLadder(f.bias, group));
    }
    if (group.length >= MIN_IMPRINT_ROWS) rowGroups.set(f.index, group);
    if (f.node.layer.kind === 'linear') {
      const columns = columnsOf(f, feeder(net.nodes, f.index), rowGroups, found);
      if (columns) checks.push(columns);
      const isOutput = f.index === lastParam;
      const check = isOutput ? classFishing(f.w, f.bias) : trapRows(f.w, new Set(paired));
      if (check) checks.push(check);
    }
    const flaggedChecks = checks.filter((c) => c.flagged);
    return {
      layer: layerName(f.node), kind: f.node.layer.kind as 'linear' | 'conv2d', shape: f.shape, checks,
      flagged: flaggedChecks.length > 0, structures: [...new Set(flaggedChecks.map((c) => STRUCTURE_OF[c.check]))],
    };
  });
  const findings = layers.filter((l) => l.flagged)
    .map((l) => `${l.layer}: ${l.structures.join(', ')} (${l.checks.filter((c) => c.flagged).map((c) => c.check).join(', ')})`);
  return { flagged: findings.length > 0, layers, findings };
}

/** identical-columns, naming the layer whose identical rows those columns read when they do. */
function columnsOf(f: Found, from: number | null, rowGroups: Map<number, number[]>, found: Found[]): CheckScore | null {
  const c = identicalColumns(f.w);
  const group = from === null ? undefined : rowGroups.get(from);
  const prev = found.find((g) => g.index === from);
  if (!c?.flagged || !group || !prev || prev.node.layer.kind !== 'linear' || prev.w.rows !== f.w.cols) return c;
  return { ...c, evidence: `${c.evidence}; they read ${layerName(prev.node)}'s ${group.length} identical rows` };
}

/** The fully connected and conv layers with their weights as matrices (rows: output units or filters). */
function weightLayers(net: AnyNetwork, theta: Float64Array): Found[] {
  const out: Found[] = [];
  net.nodes.forEach((node, index) => {
    const kind = node.layer.kind;
    if ((kind !== 'linear' && kind !== 'conv2d') || node.paramNames.length === 0) return;
    const slot = (name: string) => net.params.find((p) => p.name === name)!;
    const weight = slot(node.paramNames[0]), shape = weight.shape;
    const inOut = kind === 'linear' && (node.layer as Linear).inOut;
    const [rows, cols] = inOut ? [shape[1], shape[0]] : [shape[0], weight.size / shape[0]];
    const W = theta.subarray(weight.offset, weight.offset + weight.size);
    // stored [rows, cols] (out_in, conv) or [cols, rows] (in_out)
    const at = (i: number, j: number) => (inOut ? W[j * rows + i] : W[i * cols + j]);
    const w: WeightMatrix = {
      rows, cols,
      row: (i) => (inOut ? Float64Array.from({ length: cols }, (_, j) => at(i, j)) : W.subarray(i * cols, (i + 1) * cols)),
      col: (j) => Float64Array.from({ length: rows }, (_, i) => at(i, j)),
    };
    const b = node.paramNames.length > 1 ? slot(node.paramNames[1]) : null;
    out.push({ node, index, w, bias: b ? theta.subarray(b.offset, b.offset + b.size) : null, shape });
  });
  return out;
}

/**
 * The node whose output node `index` reads through parameter-free single-input nodes (ReLU and other activations,
 * identity, flatten): the layer whose units its columns weigh. Null when it reads the input or a join.
 */
function feeder(nodes: readonly BuiltNode[], index: number): number | null {
  let n = nodes[index];
  for (;;) {
    if (n.inputs.length !== 1 || n.inputs[0] === 0) return null;
    const i = n.inputs[0] - 1, prev = nodes[i];
    if (prev.paramNames.length > 0) return i;
    if ('inShapes' in prev.layer) return null;
    n = prev;
  }
}

function layerName(node: BuiltNode): string {
  const w = node.paramNames[0];
  return w?.endsWith('.weight') ? w.slice(0, -'.weight'.length) : node.label;
}

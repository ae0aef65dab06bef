// The graph's one input ([B,C,H,W] floats, or int token ids [B,T]) and one output ([B,K] or [B,T,K] logits).
import { DT, toNumber, type GraphProto } from './read.js';
import type { Ctx, Tensor } from './context.js';

/** The one graph input that is not an initializer: [B,C,H,W] float, C, H, W fixed; or int token ids [B,T], T fixed. */
export function graphInput(c: Ctx, graph: GraphProto): void {
  const inputs = (graph.input ?? []).filter((v) => v.name && !c.values.has(v.name));
  if (inputs.length !== 1) c.fail(`the graph has ${inputs.length} inputs besides its initializers, expected one`);
  const v = inputs[0];
  c.here = `graph input '${v.name}'`;
  const tt = v.type?.tensorType;
  if (!tt) c.bad('not a tensor');
  const ids = tt.elemType === DT.INT64 || tt.elemType === DT.INT32;
  if (tt.elemType !== DT.FLOAT && tt.elemType !== DT.DOUBLE && !ids) c.bad(`element type ${tt.elemType}, expected float or double (or int64 token ids)`);
  const dims = tt.shape?.dim ?? [];
  const shape = dims.map((d) => (d.dimParam ? d.dimParam : toNumber(d.dimValue)));
  c.here = `graph input '${v.name}' [${shape.join(',')}]`;
  if (typeof shape[0] === 'number' && shape[0] > 0) c.fixedBatch = shape[0];
  if (ids) {
    const T = shape[1];
    if (dims.length !== 2 || typeof T !== 'number' || !(T > 0)) c.bad('token ids must be [B,T] with T fixed');
    c.values.set(v.name!, { kind: 'tokens', T });
    return;
  }
  if (dims.length === 2) c.bad('[B,F] inputs are not supported yet (the engine takes [B,C,H,W] images)');
  if (dims.length !== 4) c.bad('expected [B,C,H,W]');
  const chw = shape.slice(1).map((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0 ? d : NaN));
  if (chw.some(Number.isNaN)) c.bad('C, H and W must be fixed');
  c.values.set(v.name!, { kind: 'tensor', node: 'input', shape: chw });
  c.inShape = chw;
}

/** The graph's one output, checked to be logits of the shape it declares. */
export function graphOutput(c: Ctx, graph: GraphProto): Tensor {
  const outputs = (graph.output ?? []).filter((o) => o.name);
  if (outputs.length !== 1) c.fail(`the graph has ${outputs.length} outputs, expected one ([B,K] logits)`);
  c.here = `graph output '${outputs[0].name}'`;
  c.n = { input: [outputs[0].name!] };
  const logits = c.tensor(0);
  if (logits.node === 'input') c.bad('the graph input itself, no layers');
  if (logits.shape.length !== 1 && logits.shape.length !== 2) c.bad(`must be [B,K] logits (or [B,T,K]), the graph computes [B,${logits.shape}]`);
  const K = logits.shape[logits.shape.length - 1];
  const dims = outputs[0].type?.tensorType?.shape?.dim;
  if (dims && dims.length > 0) {
    const r = logits.shape.length + 1, k = dims.length === r ? toNumber(dims[r - 1].dimValue) : NaN;
    if (dims.length !== r || (k > 0 && k !== K)) c.bad(`declares shape [${dims.map((d) => d.dimParam || toNumber(d.dimValue))}], the graph computes [B,${logits.shape}]`);
  }
  return logits;
}

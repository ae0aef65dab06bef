// The protocol registry (fl/protocols/index.ts): every protocol's parameters round-trip through its schema and a
// message file, its key and label name every public parameter, the keys and labels of sweeps made before protocols
// were objects stay as they were, and bad parameters are errors naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lenet } from '../../src/models/lenet.js';
import { Network } from '../../src/engine/network.js';
import { ReferenceKernels } from '../../src/engine/kernels.js';
import { messageFileJson, parseMessageFile, type MessageFile } from '../../src/fl/message-file.js';
import { parseProtocol, PROTOCOL_LIST, PROTOCOLS, protocolOf, type Protocol, type ProtocolParams } from '../../src/fl/protocols/index.js';
import { jobKey, type SweepJob } from '../../src/sweep/job.js';
import { protocolLabel } from '../../src/sweep/summary.js';
import { parseSweepConfig } from '../../src/sweep/config.js';
import { expandGrid } from '../../src/sweep/run-sweep.js';
import { FieldError } from '../../src/util/errors.js';

const field = (p: ProtocolParams, f: string) => (p as unknown as Record<string, number>)[f];

/** Parameters of `proto` with every public one off its default. */
function offDefaults(proto: Protocol): ProtocolParams {
  const d = parseProtocol({ kind: proto.name });
  return parseProtocol({ ...d, ...Object.fromEntries(proto.named.filter((f) => f !== 'localBatch').map((f) => [f, field(d, f) * 3])) });
}

/** A capture of one image on a small LeNet with protocol p. */
function capture(p: ProtocolParams): MessageFile {
  const model = lenet([1, 8, 8], 4), size = new Network(model, new ReferenceKernels('float64'), 1).paramCount;
  return parseMessageFile(JSON.parse(messageFileJson({
    model, protocol: p, client: 0, round: 1, batchSize: 1, theta: new Float64Array(size), message: new Float64Array(size), pastRounds: [], pastMessages: [],
    groundTruth: { dataset: 'mnist', split: 'test', indices: [0], shape: [1, 8, 8], labels: [0], images: [new Float64Array(64)] },
  })), 'probe');
}

test('the registry lists each protocol once, by the name its module gives', () => {
  assert.deepEqual(PROTOCOLS, PROTOCOL_LIST.map((p) => p.name));
  assert.equal(new Set(PROTOCOLS).size, PROTOCOLS.length);
  for (const p of PROTOCOL_LIST) assert.equal(protocolOf(p.name), p);
  assert.throws(() => protocolOf('fedfoo'), /unknown protocol 'fedfoo' \(available: fedsgd, fedavg, fedadmm, fedprox\)/);
});

for (const proto of PROTOCOL_LIST) {
  test(`${proto.name}: its parameters round-trip through its schema and a message file; its key and label name each public one`, () => {
    const p = offDefaults(proto);
    assert.deepEqual(parseProtocol(p), p);
    assert.deepEqual(parseProtocol(JSON.parse(JSON.stringify(p))), p);
    assert.ok(proto.key(p).startsWith(proto.name) && proto.label(p).startsWith(proto.name));
    for (const f of proto.named.filter((n) => n !== 'localBatch')) {
      const q = parseProtocol({ ...p, [f]: field(p, f) * 2 });
      assert.notEqual(proto.key(q), proto.key(p), `key names ${f}`);
      assert.notEqual(proto.label(q), proto.label(p), `label names ${f}`);
      assert.ok(proto.metadata(p).some((m) => m.field === f && Number(m.value) === field(p, f)), `metadata states ${f}`);
    }
    assert.deepEqual(capture(p).protocol, p);
  });
}

test('job keys and summary labels of the protocols that sweeps have always had are unchanged', () => {
  // protocol objects as results.jsonl of older sweeps holds them
  const old = [
    [{ kind: 'fedsgd', steps: 1, lr: 0.1, rho: 0.1 }, 'fedsgd', 'fedsgd'],
    [{ kind: 'fedavg', steps: 5, lr: 0.1, rho: 0.1 }, 'fedavg-E5-lr0.1', 'fedavg E=5 lr=0.1'],
    [{ kind: 'fedadmm', steps: 5, lr: 0.1, rho: 0.1 }, 'fedadmm-E5-lr0.1-rho0.1', 'fedadmm E=5 lr=0.1 rho=0.1'],
    [{ kind: 'fedadmm', steps: 1, lr: 0.05, rho: 2 }, 'fedadmm-E1-lr0.05-rho2', 'fedadmm E=1 lr=0.05 rho=2'],
  ] as const;
  for (const [protocol, key, label] of old) {
    const job: SweepJob = {
      attack: 'dlg', protocol, defense: { name: 'none', strength: 0, adaptive: false }, dataset: 'mnist', split: 'test', image: 3, seed: 1, restarts: 1,
      iterations: 300, modelSeed: 1234, precision: 'float64',
    };
    assert.equal(jobKey(job), `dlg|${key}|none|mnist-test-3|seed1|r1|it300|m1234|float64`);
    assert.equal(protocolLabel(protocol), label);
  }
});

test('bad parameters: a FieldError naming the field protocol.<name>, in the library\'s words or a front end\'s', () => {
  const fails = (raw: Parameters<typeof parseProtocol>[0], f: string, re: RegExp) => {
    assert.throws(() => parseProtocol(raw), (e: unknown) => {
      assert.ok(e instanceof FieldError, String(e));
      const named: string[] = [];
      assert.match(e.named((field) => (named.push(field), '--flag')), /^--flag /);
      assert.deepEqual(named, [`protocol.${f}`]);
      assert.match(e.message, re);
      return true;
    });
  };
  fails({ kind: 'fedavg', steps: 0 }, 'steps', /^protocol.steps must be an integer >= 1, got 0$/);
  fails({ kind: 'fedsgd', lr: 0 }, 'lr', /^protocol.lr must be a positive number, got 0$/);
  fails({ kind: 'fedadmm', rho: -1 }, 'rho', /^protocol.rho must be a positive number, got -1$/);
  fails({ kind: 'fedprox', mu: 0 }, 'mu', /^protocol.mu must be a positive number, got 0$/);
  fails({ kind: 'fedsgd', mu: 0.01 }, 'mu', /^protocol.mu applies to fedprox only, not fedsgd$/);
  fails({ kind: 'fedsgd', localBatch: 2 }, 'localBatch', /^protocol.localBatch applies to fedavg, fedadmm, fedprox only, not fedsgd$/);
  fails({ kind: 'fedavg', nu: 1 }, 'nu', /^protocol.nu is no protocol parameter, not fedavg$/);
  assert.equal((parseProtocol({ kind: 'fedprox' }) as unknown as { mu: number }).mu, 0.01, 'mu defaults to 0.01');
});

test('a sweep\'s protocols axis takes FedProx, and the unrolled attack (also by its old name) runs on FedAvg and FedProx', () => {
  const c = parseSweepConfig({ attacks: ['unrolled', 'fedavg-unrolled'], protocols: ['fedavg', { kind: 'fedprox', steps: 2, lr: 0.1, mu: 0.01 }], iterations: 5 });
  assert.deepEqual(expandGrid(c).map(jobKey).map((k) => k.split('|').slice(0, 2).join('|')), [
    'unrolled|fedavg-E1-lr0.1', 'unrolled|fedprox-E2-lr0.1-mu0.01', 'fedavg-unrolled|fedavg-E1-lr0.1', 'fedavg-unrolled|fedprox-E2-lr0.1-mu0.01',
  ]);
  assert.throws(() => parseSweepConfig({ attacks: ['dlg'], protocols: [{ kind: 'fedsgd', mu: 0.1 }] }), /protocols\[0\]: mu applies to fedprox only, not fedsgd/);
  assert.throws(() => parseSweepConfig({ attacks: ['unrolled'], protocols: ['fedsgd'] }), /attack unrolled needs fedavg or fedprox messages/);
});

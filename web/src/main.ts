// The page: the form, one attack worker per attack, the live panels and curves, Stop; the imprint demo (a malicious
// server) as one more attack choice with its own settings and result panel.
import { ATTACKS, ATTACK_DESCRIPTIONS, consumes, defaultProtocolOf, type AttackName } from '../../src/attacks/presets.js';
import { ADAPTIVE, DEFENSES, type DefenseName } from '../../src/defenses/defense.js';
import { PROTOCOL_LIST, protocolOf } from '../../src/fl/protocols/index.js';
import { curvesSvgOf } from '../../src/report/run-files.js';
import { attackConfig, type FormValues } from './settings.js';
import { drawImage } from './draw.js';
import { imageToInput } from './own-image.js';
import { mnistTest } from './mnist-subset.js';
import { RunPanel } from './run-panel.js';
import { ImprintPanel } from './imprint-panel.js';
import { BATCHES, BINS, DEFAULTS, USERS, dataSplitText, imprintRequest } from './imprint-demo.js';
import type { AttackRequest, PrivateImage, WorkerReply } from './worker-messages.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const imageSelect = $<HTMLSelectElement>('image-select');
const attackSelect = $<HTMLSelectElement>('attack');
const protocolSelect = $<HTMLSelectElement>('protocol');
const defenseSelect = $<HTMLSelectElement>('defense');
const strengthInput = $<HTMLInputElement>('strength');
const adaptiveInput = $<HTMLInputElement>('adaptive');
const compareBox = $<HTMLInputElement>('compare');
const compareSet = $<HTMLFieldSetElement>('compare-attacks');
const runButton = $<HTMLButtonElement>('run');
const stopButton = $<HTMLButtonElement>('stop');
const status = $<HTMLOutputElement>('status');
const preview = $<HTMLCanvasElement>('preview');
const num = (id: string) => Number($<HTMLInputElement>(id).value);

/** An honest server's attacks; imprint is the malicious-server demo (its own settings); trap and fishing (models the page does not build) are not on the page. */
const HONEST_ATTACKS = ATTACKS.filter((a) => a !== 'imprint' && a !== 'trap' && a !== 'fishing');
const IMPRINT: AttackName = 'imprint';
type Panel = RunPanel | ImprintPanel;

/** Default strength when a defense is chosen, and what the number means. */
const DEFENSE_STRENGTH: Record<DefenseName, [number, string]> = {
  none: [0, 'The client sends its message as it is.'],
  gaussian: [1e-2, 'Gaussian noise of this variance on every entry (the DLG paper: 1e-4 .. 1e-1).'],
  laplacian: [1e-2, 'Laplacian noise of this variance on every entry.'],
  fp16: [0, 'The message rounded to half precision.'],
  int8: [0, 'Each tensor quantised to 255 levels.'],
  prune: [0.7, 'This fraction of the smallest entries set to zero (0.01 .. 0.9); an adaptive attacker matches only the rest.'],
  dp: [0.1, 'Clipped to norm 1, then Gaussian noise of this multiplier; an adaptive attacker uses the cosine distance.'],
  soteria: [0.8, 'Soteria: the last layer\'s weight gradient zeroed for this fraction of its input features; an adaptive attacker leaves that layer out.'],
};

let ownImage: Float64Array | null = null;
let workers: Worker[] = [];
let panels: Panel[] = [];

function fillSelects(): void {
  for (let i = 0; i < mnistTest.count; i++) imageSelect.add(new Option(String(i), String(i)));
  for (const a of HONEST_ATTACKS) {
    attackSelect.add(new Option(a, a));
    const label = document.createElement('label');
    label.innerHTML = `<input type="checkbox" name="compare-attack" value="${a}"> ${a}`;
    compareSet.append(label);
  }
  attackSelect.add(new Option('imprint (malicious server)', IMPRINT));
  const choices = (id: string, values: number[], chosen: number) => {
    for (const v of values) $<HTMLSelectElement>(id).add(new Option(String(v), String(v), v === chosen, v === chosen));
  };
  choices('imprint-batch', BATCHES, DEFAULTS.batch);
  choices('imprint-bins', BINS, DEFAULTS.bins);
  choices('imprint-users', USERS, DEFAULTS.users);
  for (const d of DEFENSES) defenseSelect.add(new Option(d, d));
  attackSelect.value = 'idlg';
  for (const p of PROTOCOL_LIST) {
    protocolSelect.add(new Option(`${p.title} (${p.sends})`, p.name));
    // each protocol's own parameters (FedProx's mu): one input each, next to rho
    for (const o of p.own) {
      const label = document.createElement('label');
      label.htmlFor = `own-${o.name}`;
      label.textContent = o.name;
      const input = Object.assign(document.createElement('input'), { id: `own-${o.name}`, type: 'number', step: 'any', min: '0', value: String(o.default), title: o.help });
      $('protocol-own').append(label, input);
    }
  }
}

function selectedInput(): PrivateImage {
  const source = (form.elements.namedItem('source') as RadioNodeList).value;
  if (source === 'mnist') return { kind: 'mnist', index: Number(imageSelect.value) };
  if (!ownImage) throw new Error('choose or drop an image first');
  const label = num('own-label');
  if (!Number.isInteger(label) || label < 0 || label > 9) throw new Error(`the label must be a digit 0..9, got ${label}`);
  return { kind: 'image', image: ownImage, label };
}

async function showPreview(): Promise<void> {
  const input = selectedInput();
  const image = input.kind === 'mnist' ? (await mnistTest.get(input.index)).image : input.image;
  drawImage(preview, image);
}

function formValues(attack: AttackName): FormValues {
  return {
    attack, iterations: num('iterations'), seed: num('seed'),
    protocol: protocolSelect.value, localSteps: num('local-steps'), lr: num('lr'), rho: num('rho'),
    own: Object.fromEntries(protocolOf(protocolSelect.value).own.map((o) => [o.name, num(`own-${o.name}`)])),
    defense: defenseSelect.value as DefenseName, strength: Number(strengthInput.value), adaptive: adaptiveInput.checked,
  };
}

/** An attack consumes one protocol's messages: choosing an attack chooses its protocol (attackSelect's change), a protocol
 * its first attack when the chosen one does not fit, and only fitting attacks can be compared on one message. */
function syncProtocol(): void {
  const p = protocolOf(protocolSelect.value);
  if (!consumes(attackSelect.value as AttackName, p.name)) attackSelect.value = HONEST_ATTACKS.find((a) => consumes(a, p.name))!;
  for (const box of compareSet.querySelectorAll<HTMLInputElement>('input')) {
    box.disabled = !consumes(box.value as AttackName, p.name);
    if (box.disabled) box.checked = false;
  }
  $<HTMLInputElement>('local-steps').disabled = !p.localSteps;
  $<HTMLInputElement>('lr').disabled = false; // FedSGD sends the gradient, but eta is still the client's step
  $<HTMLInputElement>('rho').disabled = !p.named.includes('rho');
  for (const input of $('protocol-own').querySelectorAll<HTMLInputElement>('input')) input.disabled = !p.own.some((o) => `own-${o.name}` === input.id);
  $('attack-help').textContent = ATTACK_DESCRIPTIONS[attackSelect.value as AttackName];
  syncImprint();
}

/** The imprint demo attacks the first N embedded images: its settings instead of the private image, iterations and seed. */
function syncImprint(): void {
  const on = attackSelect.value === IMPRINT;
  $('imprint-settings').hidden = !on;
  $('attack-help').hidden = on; // the CLI's words for it: the demo's own help says what the page does
  $<HTMLFieldSetElement>('private-image').disabled = on;
  for (const id of ['iterations', 'seed', 'compare']) $<HTMLInputElement>(id).disabled = on;
  $('imprint-data').textContent = dataSplitText(num('imprint-batch'));
}

function syncDefense(): void {
  const d = defenseSelect.value as DefenseName;
  const [strength, help] = DEFENSE_STRENGTH[d];
  strengthInput.value = String(strength);
  strengthInput.disabled = strength === 0;
  adaptiveInput.disabled = !ADAPTIVE.includes(d);
  if (adaptiveInput.disabled) adaptiveInput.checked = false;
  $('defense-help').textContent = help;
}

function chosenAttacks(): AttackName[] {
  if (!compareBox.checked) return [attackSelect.value as AttackName];
  const picked = [...compareSet.querySelectorAll<HTMLInputElement>('input:checked')].map((b) => b.value as AttackName);
  if (picked.length === 0) throw new Error('tick at least one attack to compare');
  return picked;
}

let curvesPending = false;
function drawCurves(): void {
  if (curvesPending) return;
  curvesPending = true;
  requestAnimationFrame(() => {
    curvesPending = false;
    const runs = panels.filter((p) => p.history.length > 0).map((p) => ({ name: p.attack.toUpperCase(), history: p.history }));
    $('curves').innerHTML = runs.length > 0 ? curvesSvgOf(runs) : '';
  });
}

function finish(text: string): void {
  for (const w of workers) w.terminate();
  workers = [];
  runButton.disabled = false;
  stopButton.disabled = true;
  status.textContent = text;
}

/** The workers' requests and their panels for the form's settings. */
function planned(): { requests: AttackRequest[]; panels: Panel[] } {
  if (!compareBox.checked && attackSelect.value === IMPRINT) {
    const choice = { batch: num('imprint-batch'), bins: num('imprint-bins'), users: num('imprint-users') };
    return { requests: [imprintRequest(attackConfig(formValues(IMPRINT)), choice)], panels: [new ImprintPanel(choice)] };
  }
  const input = selectedInput();
  const requests = chosenAttacks().map((a) => ({ cfg: attackConfig(formValues(a)), input }));
  return { requests, panels: requests.map((r) => new RunPanel(r.cfg.attack, !compareBox.checked)) };
}

function run(): void {
  let plan: ReturnType<typeof planned>;
  try {
    plan = planned();
  } catch (e) {
    status.textContent = `error: ${(e as Error).message}`;
    return;
  }
  const { requests } = plan;
  finish('running');
  runButton.disabled = true;
  stopButton.disabled = false;
  panels = plan.panels;
  $('panels').replaceChildren(...panels.map((p) => p.root));
  drawCurves();
  requests.forEach((req, i) => {
    const worker = new Worker(new URL('./attack-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<WorkerReply>) => {
      const m = e.data;
      if (m.kind === 'error') return finish(`error: ${m.message}`);
      panels[i]!.handle(m);
      drawCurves();
      if (panels.every((p) => p.done)) finish('done');
    };
    worker.onerror = (e) => finish(`error: ${e.message}`);
    worker.postMessage(req);
    workers.push(worker);
  });
}

function useOwnImage(file: File | undefined): void {
  if (!file) return;
  imageToInput(file, $<HTMLInputElement>('own-invert').checked)
    .then((image) => {
      ownImage = image;
      (form.elements.namedItem('source') as RadioNodeList).value = 'own';
      return showPreview();
    })
    .catch((e) => (status.textContent = `error: cannot read ${file.name} (${(e as Error).message})`));
}

fillSelects();
syncProtocol();
syncDefense();
void showPreview();
attackSelect.addEventListener('change', () => {
  protocolSelect.value = defaultProtocolOf(attackSelect.value as AttackName).name;
  syncProtocol();
});
protocolSelect.addEventListener('change', syncProtocol);
defenseSelect.addEventListener('change', syncDefense);
$('imprint-batch').addEventListener('change', syncImprint);
compareBox.addEventListener('change', () => {
  compareSet.hidden = !compareBox.checked;
  attackSelect.disabled = compareBox.checked;
});
imageSelect.addEventListener('change', () => {
  (form.elements.namedItem('source') as RadioNodeList).value = 'mnist';
  void showPreview();
});
form.addEventListener('change', (e) => {
  if ((e.target as HTMLInputElement).name === 'source') showPreview().catch((err) => (status.textContent = `error: ${(err as Error).message}`));
});
const fileInput = $<HTMLInputElement>('own-file');
fileInput.addEventListener('change', () => useOwnImage(fileInput.files?.[0]));
$<HTMLInputElement>('own-invert').addEventListener('change', () => useOwnImage(fileInput.files?.[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => (e.preventDefault(), drop.classList.add('over')));
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  useOwnImage(e.dataTransfer?.files[0]);
});
form.addEventListener('submit', (e) => (e.preventDefault(), run()));
stopButton.addEventListener('click', () => finish('stopped'));

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeXml, lineChartSvg, linearAxis, logAxis, panelsSvg, type LineChartOptions } from '../../src/report/svg.js';

function count(s: string, re: RegExp): number {
  return (s.match(re) ?? []).length;
}

/** Minimal well-formedness check: tags balance and attribute values contain no raw < or &. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tagRe = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = tagRe.exec(svg))) {
    const text = svg.slice(last, m.index);
    assert.ok(!/[<>]/.test(text), `stray < or > in text: ${JSON.stringify(text.slice(0, 80))}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(text), `unescaped & in text: ${JSON.stringify(text)}`);
    for (const a of m[3]!.matchAll(/="([^"]*)"/g)) {
      assert.ok(!/[<]|&(?!(amp|lt|gt|quot|apos);)/.test(a[1]!), `bad attribute value ${a[1]}`);
    }
    last = tagRe.lastIndex;
    if (m[4]) continue;
    if (m[1]) assert.equal(stack.pop(), m[2], `mismatched </${m[2]}>`);
    else stack.push(m[2]!);
  }
  assert.ok(!/[<>]/.test(svg.slice(last).trim()), 'trailing garbage');
  assert.deepEqual(stack, []);
}

const iters = Array.from({ length: 51 }, (_, i) => i * 10);

test('lineChartSvg: one series path each, legend names escaped, well formed', () => {
  const svg = lineChartSvg({
    title: 'Objective & MSE <DLG>',
    xLabel: 'iteration',
    yLabel: 'gradient distance',
    logY: true,
    series: [
      { name: 'DLG "a" & <b>', points: iters.map((x) => [x, Math.exp(-x / 100)] as [number, number]) },
      { name: "iDLG 'x'", points: iters.map((x) => [x, 2 * Math.exp(-x / 50)] as [number, number]) },
      { name: 'third', points: iters.map((x) => [x, 0.5] as [number, number]) },
    ],
  });
  assert.ok(svg.startsWith('<svg'));
  assert.ok(svg.includes('xmlns="http://www.w3.org/2000/svg"'));
  assert.equal(count(svg, /<path\b/g), 3);
  assert.equal(count(svg, /<polyline\b/g), 0);
  assert.ok(svg.includes('DLG &quot;a&quot; &amp; &lt;b&gt;'));
  assert.ok(svg.includes('iDLG &apos;x&apos;'));
  assert.ok(svg.includes('Objective &amp; MSE &lt;DLG&gt;'));
  assert.ok(!svg.includes('<b>'));
  assertWellFormed(svg);
  // distinct colours
  const strokes = [...svg.matchAll(/<path class="series"[^>]*stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
  assert.equal(new Set(strokes).size, 3);
  // log ticks at powers of ten: data spans ~0.0067..2 -> 0.001 .. 10
  for (const t of ['>0.001<', '>0.01<', '>0.1<', '>1<', '>10<']) assert.ok(svg.includes(t), `tick ${t}`);
});

test('lineChartSvg: log scale skips non-positive and non-finite values, breaking the line', () => {
  const svg = lineChartSvg({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    logY: true,
    series: [{ name: 's', points: [[0, 1], [1, 0.1], [2, 0], [3, -5], [4, 0.01], [5, 0.001], [6, NaN], [7, Infinity], [8, 1e-4]] }],
  });
  const d = /<path class="series"[^>]*\sd="([^"]*)"/.exec(svg)![1]!;
  // sub-paths: (0,1)-(1,0.1) | (4,..)-(5,..) | isolated (8,..) as a dot
  assert.equal(count(d, /M/g), 3);
  assert.equal(count(d, /L/g), 2);
  assert.ok(d.endsWith('h0'));
  assert.ok(!/NaN|Infinity/.test(svg));
  assertWellFormed(svg);
});

test('lineChartSvg: linear scale keeps zero and negative values, skips NaN', () => {
  const svg = lineChartSvg({
    title: 't',
    xLabel: 'x',
    yLabel: 'y',
    series: [{ name: 's', points: [[0, -1], [1, 0], [2, NaN], [3, 2]] }],
  });
  const d = /<path class="series"[^>]*\sd="([^"]*)"/.exec(svg)![1]!;
  assert.equal(count(d, /M/g), 2);
  assert.ok(!/NaN/.test(svg));
  assertWellFormed(svg);
});

test('lineChartSvg: empty series and no series do not crash', () => {
  for (const series of [[], [{ name: 'empty', points: [] }], [{ name: 'bad', points: [[0, NaN], [1, -1]] as [number, number][] }]]) {
    for (const logY of [false, true]) {
      const svg = lineChartSvg({ title: 'nothing', xLabel: 'x', yLabel: 'y', logY, series });
      assert.ok(svg.includes('<svg'));
      assert.equal(count(svg, /<path\b/g), series.length);
      assert.ok(!/NaN|Infinity/.test(svg));
      assertWellFormed(svg);
    }
  }
});

test('lineChartSvg: constant and single-point series', () => {
  const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'one', points: [[5, 3]] }] });
  assert.ok(!/NaN|Infinity/.test(svg));
  assertWellFormed(svg);
  const svg2 = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'c', points: [[0, 0.5], [1, 0.5]] }] });
  assert.ok(!/NaN|Infinity/.test(svg2));
});

test('axes: nice linear ticks and decade log ticks', () => {
  const a = linearAxis(0, 500);
  assert.equal(a.lo, 0);
  assert.equal(a.hi, 500);
  assert.deepEqual(a.ticks, [0, 100, 200, 300, 400, 500]);
  const b = linearAxis(0.013, 0.087);
  assert.ok(b.lo <= 0.013 && b.hi >= 0.087);
  assert.deepEqual(b.ticks.map(b.label), ['0', '0.02', '0.04', '0.06', '0.08', '0.10']);
  const l = logAxis(3e-5, 2);
  assert.deepEqual(l.ticks, [-5, -4, -3, -2, -1, 0, 1]);
  assert.deepEqual(l.ticks.map(l.label), ['1e-5', '1e-4', '0.001', '0.01', '0.1', '1', '10']);
  const wide = logAxis(1e-30, 1e10);
  assert.ok(wide.ticks.length <= 9 && wide.ticks[0]! <= -30 && wide.ticks.at(-1)! >= 10);
  const same = logAxis(0.5, 0.5);
  assert.deepEqual(same.ticks, [-1, 0]);
});

test('panelsSvg: two charts side by side', () => {
  const opts: LineChartOptions = {
    title: 'objective',
    xLabel: 'iteration',
    yLabel: 'loss',
    logY: true,
    series: [{ name: 'a', points: [[0, 1], [1, 0.5]] }],
  };
  const svg = panelsSvg([lineChartSvg({ ...opts, width: 500, height: 300 }), { ...opts, title: 'MSE' }], 10);
  assert.ok(svg.startsWith('<svg'));
  assert.ok(svg.includes('width="1150"'));
  assert.ok(svg.includes('height="400"'));
  assert.ok(svg.includes('<svg x="0" y="0"'));
  assert.ok(svg.includes('<svg x="510" y="0"'));
  assert.equal(count(svg, /<path\b/g), 2);
  assertWellFormed(svg);
});

test('escapeXml', () => {
  assert.equal(escapeXml(`a<b>&"c"'d'\u0001`), 'a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
});

test('a series of one point (a sweep with one strength) is drawn as a visible marker', () => {
  const svg = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[1, 0.5]] }, { name: 'b', points: [[1, 0.2], [2, 0.3]] }] });
  assert.equal((svg.match(/<circle class="marker"/g) ?? []).length, 1);
});

test('legend "right" sits right of the plot, clear of the curves (Fig. 2); the default stays inside', () => {
  const opts: LineChartOptions = { title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a long series name', points: [[0, 1], [10, 2]] }] };
  const legendX = (svg: string) => Number(/<g class="legend">\s*<rect x="([\d.]+)"/.exec(svg)![1]);
  const lastX = (svg: string) => Number(/<path class="series"[^>]*\sd="[^"]*L([\d.]+) [\d.]+"/.exec(svg)![1]);
  const right = lineChartSvg({ ...opts, legend: 'right' });
  assert.ok(legendX(right) > lastX(right), `legend at ${legendX(right)}, curve ends at ${lastX(right)}`);
  const inside = lineChartSvg(opts);
  assert.ok(legendX(inside) < lastX(inside));
});

// The built page in real Chromium (Debian's /usr/bin/chromium, driven by playwright-core): iDLG on MNIST test
// image 0 reconstructs it while the canvas updates, its downloads match `gradleak attack`'s run directory, a
// defended message stops it, the compare mode shows DLG-ADMM failing where the ADMM-aware attack succeeds on
// the same FedADMM increment, an own image is attacked, Stop stops, the imprint demo (a malicious server) recovers most
// of a batch of 64 through secure aggregation, and the page is labelled and fits a phone's width.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { gradleak } from '../cli/helpers.js';
import { serveStatic } from '../helpers/static-server.js';
import { gridLayout } from '../../src/report/png.js';
import { rasterImage } from '../../src/report/raster.js';
import { encodePng } from '../../src/report/png-encode.js';
import { openMnist } from '../../src/data/mnist.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = process.env.GRADLEAK_CHROMIUM ?? '/usr/bin/chromium';
const work = mkdtempSync(join(tmpdir(), 'gradleak-web-'));
let browser: Browser | undefined;
let page: Page;
let server: Awaited<ReturnType<typeof serveStatic>> | undefined;

/** Runs the page's current settings and waits for `done`; returns the MSE, PSNR and the distinct canvas states seen meanwhile. */
async function runAndWait(timeoutMs = 120_000): Promise<{ mse: number; psnr: number; states: number }> {
  // sample the live canvas at every animation frame while the attack runs
  await page.evaluate(() => {
    const w = window as unknown as { seen: Set<string>; sampling: boolean };
    w.seen = new Set();
    w.sampling = true;
    const sample = () => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=reconstruction]');
      if (c) w.seen.add(c.toDataURL());
      if (w.sampling) requestAnimationFrame(sample);
    };
    requestAnimationFrame(sample);
  });
  await page.getByTestId('run').click();
  await page.getByTestId('status').filter({ hasText: /^(done|error.*)$/ }).waitFor({ timeout: timeoutMs });
  assert.equal(await page.getByTestId('status').textContent(), 'done');
  const states = await page.evaluate(() => {
    const w = window as unknown as { seen: Set<string>; sampling: boolean };
    w.sampling = false;
    return w.seen.size;
  });
  return { mse: Number(await page.getByTestId('mse').textContent()), psnr: Number(await page.getByTestId('psnr').textContent()), states };
}

async function downloaded(testId: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const path = join(work, `${testId}-${file.suggestedFilename()}`);
  await file.saveAs(path);
  return path;
}

async function pixels(path: string) {
  const { data, info } = await sharp(path).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('the page in Chromium', { timeout: 600_000 }, () => {
  before(async () => {
    if (!existsSync(CHROMIUM)) {
      assert.fail(`${CHROMIUM} not found: the browser test needs Debian's chromium (apt-get install -y chromium; .ci/run installs it), or GRADLEAK_CHROMIUM=/path/to/chromium`);
    }
    const built = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(ROOT, 'web/vite.config.ts'), '--outDir', join(work, 'site'), '--logLevel', 'warn'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(built.status, 0, `vite build failed:\n${built.stdout}\n${built.stderr}`);
    server = await serveStatic(join(work, 'site'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    assert.deepEqual(errors, []);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('iDLG reconstructs MNIST test image 0 in 300 iterations, updating the canvas as it goes', async () => {
    await page.getByTestId('image-select').selectOption('0');
    await page.getByTestId('attack-select').selectOption('idlg');
    await page.getByTestId('iterations').fill('300');
    const { mse, psnr, states } = await runAndWait();
    assert.ok(mse < 1e-3, `MSE ${mse}`);
    assert.ok(psnr > 30, `PSNR ${psnr}`);
    // the blank canvas, intermediate reconstructions and the last one: at least three different pictures
    assert.ok(states >= 3, `the canvas showed ${states} different pictures during the run`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the finished page is ${overflow} px wider than a 1280 px screen`);
    if (process.env.GRADLEAK_SCREENSHOT) await page.screenshot({ path: process.env.GRADLEAK_SCREENSHOT, fullPage: true });
  });

  test('its downloads hold what `gradleak attack` writes for the same settings', async () => {
    const cli = gradleak(['attack', '--attack', 'idlg', '--index', '0', '--iterations', '300', '--out', join(work, 'cli'), '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const cliRun = JSON.parse(cli.stdout.trim().split('\n').pop()!);
    const noSeconds = (text: string) => ({ ...JSON.parse(text), seconds: null });
    const metrics = readFileSync(await downloaded('download-metrics-json'), 'utf8');
    assert.deepEqual(noSeconds(metrics), noSeconds(readFileSync(join(work, 'cli/metrics.json'), 'utf8')));
    assert.equal(readFileSync(await downloaded('download-history-csv'), 'utf8'), readFileSync(join(work, 'cli/history.csv'), 'utf8'));
    assert.equal(readFileSync(await downloaded('download-curves-svg'), 'utf8'), readFileSync(join(work, 'cli/curves.svg'), 'utf8'));
    // snapshots.png: same size and the same image cells; only the label text is drawn by each platform's own SVG renderer
    const [ours, theirs] = [await pixels(await downloaded('download-snapshots-png')), await pixels(join(work, 'cli/snapshots.png'))];
    assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height]);
    const L = gridLayout({ shape: [1, 28, 28], rows: [{ label: 'IDLG', images: [] }], columnLabels: Array(12).fill('iter 300') });
    for (let y = L.cellY(0); y < L.cellY(0) + L.cellH; y++) {
      const row = (p: typeof ours) => p.data.subarray(y * p.width + L.cellX(0), y * p.width + L.width);
      assert.ok(Buffer.compare(row(ours), row(theirs)) === 0, `snapshots.png differs from the CLI's in pixel row ${y}`);
    }
    const m = JSON.parse(metrics);
    const pageRate = m.evaluations / m.seconds, cliRate = cliRun.evaluations / cliRun.seconds;
    console.log(`# evaluations per second, iDLG 300 iterations on MNIST test image 0: Chromium ${pageRate.toFixed(0)}, CLI ${cliRate.toFixed(0)} (CLI / Chromium ${(cliRate / pageRate).toFixed(2)})`);
  });

  test('a defended message (Gaussian noise of variance 1e-2) leaves iDLG far from the image', async () => {
    await page.getByTestId('defense-select').selectOption('gaussian');
    assert.equal(await page.getByTestId('defense-strength').inputValue(), '0.01');
    const { mse } = await runAndWait();
    assert.ok(mse > 1e-1, `defended MSE ${mse}`);
    await page.getByTestId('defense-select').selectOption('none');
  });

  test('compare mode: on one FedADMM increment the reproduction report\'s DLG-ADMM fails and the ADMM-aware attack succeeds', async () => {
    await page.getByTestId('compare').check();
    await page.getByTestId('protocol-select').selectOption('fedadmm');
    for (const a of ['dlg-admm', 'admm-aware']) await page.locator(`input[name=compare-attack][value="${a}"]`).check();
    await page.getByTestId('run').click();
    await page.getByTestId('status').filter({ hasText: /^(done|error.*)$/ }).waitFor({ timeout: 120_000 });
    assert.equal(await page.getByTestId('status').textContent(), 'done');
    const mse = async (a: string) => Number(await page.getByTestId(`mse-${a}`).textContent());
    assert.ok((await mse('admm-aware')) < 1e-3, `ADMM-aware MSE ${await mse('admm-aware')}`);
    assert.ok((await mse('dlg-admm')) > 1e-1, `DLG-ADMM MSE ${await mse('dlg-admm')}`);
  });

  test('an own image, chosen as a file, is resized to the model input, shown and attacked with its label', async () => {
    const digit = openMnist('test').read(1); // a 2
    const png = encodePng(rasterImage(digit.image, [1, 28, 28], 3)); // 84x84: the page resizes it to 28x28
    await page.getByTestId('own-file').setInputFiles({ name: 'two.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    await page.locator('input[name=source][value=own]:checked').waitFor();
    await page.locator('#own-label').fill('2');
    await page.getByTestId('compare').uncheck();
    await page.getByTestId('attack-select').selectOption('idlg');
    await page.getByTestId('iterations').fill('300');
    const { mse } = await runAndWait();
    assert.ok(mse < 1e-3, `MSE ${mse} on the own image`);
    assert.equal(await page.locator('.metrics dd').nth(4).textContent(), '2', 'the inferred label');
    await page.locator('input[name=source][value=mnist]').check();
  });

  test('Stop ends a running attack at once and the page can run again', async () => {
    await page.getByTestId('attack-select').selectOption('dlg');
    await page.getByTestId('iterations').fill('100000');
    await page.getByTestId('run').click();
    const frames = async () => Number((await page.getByTestId('reconstruction').getAttribute('data-frames')) ?? 0);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=reconstruction]')?.getAttribute('data-frames') ?? 0) >= 2);
    await page.getByTestId('stop').click();
    assert.equal(await page.getByTestId('status').textContent(), 'stopped');
    assert.equal(await page.getByTestId('run').isEnabled(), true);
    await page.waitForTimeout(300); // a frame already queued may still be drawn
    const atStop = await frames();
    await page.waitForTimeout(1000);
    assert.equal(await frames(), atStop, 'the reconstruction still changes after Stop');
    await page.getByTestId('attack-select').selectOption('idlg');
  });

  test('the imprint demo (malicious server, K = 128, 4 users under secure aggregation) recovers most of a batch of 64', async () => {
    await page.getByTestId('attack-select').selectOption('imprint');
    await page.getByTestId('imprint-batch').selectOption('64');
    await page.getByTestId('imprint-bins').selectOption('128');
    await page.getByTestId('imprint-users').selectOption('4');
    assert.match((await page.locator('#imprint-data').textContent())!, /clients' images: MNIST test images 0–63\. The server's public images .*MNIST test images 128–999, disjoint/);
    await page.getByTestId('run').click();
    await page.getByTestId('status').filter({ hasText: /^(done|error.*)$/ }).waitFor({ timeout: 120_000 });
    assert.equal(await page.getByTestId('status').textContent(), 'done');
    assert.equal(await page.getByTestId('threat-model').textContent(), 'malicious server: imprint module with 128 bins; 4 users under secure aggregation');
    const [, shown, expected] = (await page.getByTestId('imprint-count').textContent())!.match(/^recovered (\d+) of 64 \(theory expects ([\d.]+)\)$/)!;
    const highlighted = await page.locator('[data-testid=imprint-reconstructions] canvas.recovered').count();
    assert.equal(Number(shown), highlighted, 'the count shown is the number of highlighted reconstructions');
    assert.equal(await page.locator('[data-testid=imprint-truth] canvas.recovered').count(), highlighted, 'and of highlighted true images');
    assert.ok(highlighted > 20, `recovered ${highlighted} of 64 (theory expects ${expected})`);
    assert.ok(Math.abs(Number(expected) - 64 * (1 - 1 / 128) ** 63) < 5, `theory expects ${expected}`);
    assert.match((await page.getByTestId('imprint-seconds').textContent())!, /^\d+\.\d\d s /);
    if (process.env.GRADLEAK_SCREENSHOT_IMPRINT) await page.screenshot({ path: process.env.GRADLEAK_SCREENSHOT_IMPRINT, fullPage: true });
    await page.getByTestId('attack-select').selectOption('idlg');
  });

  test('every control has a label, Enter in a field runs, and the page fits a phone\'s width', async () => {
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement>('input, select, button')]
        .filter((e) => (e.labels?.length ?? 0) === 0 && !e.getAttribute('aria-label') && !(e.tagName === 'BUTTON' && e.textContent?.trim()))
        .map((e) => e.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
    await page.getByTestId('iterations').fill('20');
    await page.getByTestId('iterations').press('Enter');
    await page.getByTestId('status').filter({ hasText: /^(done|error.*)$/ }).waitFor({ timeout: 60_000 });
    assert.equal(await page.getByTestId('status').textContent(), 'done');
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than a 390 px phone screen`);
  });
});

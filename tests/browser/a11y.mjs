// Accessibility checks for the browser tests: axe-core (WCAG 2.0/2.1/2.2 A
// and AA rules) on the page as the browser shows it, a full-page screenshot
// into test-artifacts/screenshots/, and the same again in the other language.
//
// axe is evaluated through the DevTools protocol (page.evaluate), which the
// server's Content-Security-Policy does not block, so the pages are tested
// with their real CSP in force (no bypassCSP): a style or script the CSP
// refuses would otherwise look fine here and broken for real users.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from './server.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
export const SCREENSHOT_DIR = path.join(repoRoot, 'test-artifacts', 'screenshots');

// --- Browser-side problems --------------------------------------------------------

const problems = new WeakMap();

/**
 * Records, for checkAxe to report, what the browser complained about on this
 * page: Content-Security-Policy refusals and other console errors, and
 * sub-resources (stylesheet, font, image) that failed to load. The document's
 * own status (a 404 page, a 422 form) is not a problem.
 */
export function watchPage(page) {
  const list = [];
  problems.set(page, list);
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    const where = msg.location()?.url ?? '';
    if (/Failed to load resource: the server responded with a status of/.test(text)) {
      // Chromium logs the document's own 4xx status (a 404 page, a 422 form) as
      // a console error, and asks for /favicon.ico by itself; neither is a page
      // defect. Other failed sub-resources are reported by the response handler.
      return;
    }
    list.push(`console error on ${page.url()}: ${text}${where && where !== page.url() ? ` (${where})` : ''}`);
  });
  page.on('response', (res) => {
    const req = res.request();
    if (req.resourceType() === 'document' || new URL(res.url()).pathname === '/favicon.ico') return;
    if (res.status() >= 400) list.push(`${req.resourceType()} ${res.url()} answered ${res.status()} (on ${page.url()})`);
  });
  page.on('requestfailed', (req) => {
    if (req.resourceType() === 'document') return;
    list.push(`${req.resourceType()} ${req.url()} failed: ${req.failure()?.errorText} (on ${page.url()})`);
  });
  page.on('pageerror', (err) => list.push(`script error on ${page.url()}: ${err.message}`));
}

function takeProblems(page) {
  const list = problems.get(page) ?? [];
  const out = list.splice(0, list.length);
  return out;
}

// --- axe -------------------------------------------------------------------------------

export async function runAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({
        target: n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' '),
        html: n.html.length > 240 ? `${n.html.slice(0, 240)}…` : n.html,
        summary: (n.failureSummary ?? '').replace(/\s+/g, ' ').trim(),
      })),
    }));
  }, AXE_TAGS);
}

export function formatViolations(violations) {
  return violations
    .map((v) => [
      `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`,
      ...v.nodes.map((n) => `      at ${n.target}\n         ${n.html}\n         ${n.summary}`),
    ].join('\n'))
    .join('\n');
}

// --- Screenshots -------------------------------------------------------------------------

export function slug(text) {
  return String(text)
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 80) || 'page';
}

function testName(t) {
  return typeof t === 'string' ? t : t?.name ?? 'test';
}

export async function screenshot(page, name, t) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const lang = (await page.getAttribute('html', 'lang')) || 'unknown';
  const file = path.join(SCREENSHOT_DIR, `${slug(testName(t))}-${slug(name)}-${slug(lang)}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// --- Checks ------------------------------------------------------------------------------

/**
 * Screenshots the page and runs axe in its current language. Returns a list of
 * failure texts (empty when the page is clean); does not assert.
 */
export async function inspect(page, name, t) {
  const lang = await page.getAttribute('html', 'lang');
  const where = `${name} (${page.url()}, lang=${lang})`;
  const file = await screenshot(page, name, t);
  const failures = [];
  const violations = await runAxe(page);
  if (violations.length) {
    failures.push(`axe found ${violations.length} violation(s) on ${where} [screenshot ${path.relative(repoRoot, file)}]:\n${formatViolations(violations)}`);
  }
  const seen = takeProblems(page);
  if (seen.length) failures.push(`the browser reported problems on ${where}:\n${seen.map((p) => `  ${p}`).join('\n')}`);
  return failures;
}

/** axe + screenshot in the current language only; asserts. */
export async function checkAxe(page, name, t) {
  const failures = await inspect(page, name, t);
  assert.ok(failures.length === 0, failures.join('\n\n'));
}

/** Follows the header's language link and checks that <html lang> changed. */
export async function switchLanguage(page) {
  const before = await page.getAttribute('html', 'lang');
  const link = page.locator('header a[href^="/language?lang="]');
  assert.equal(await link.count(), 1, `one language link in the header of ${page.url()}`);
  const target = new URL(await link.getAttribute('href'), page.url()).searchParams.get('lang');
  assert.notEqual(target, before, `the language link on ${page.url()} offers another language than the page's (${before})`);
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), link.click()]);
  const after = await page.getAttribute('html', 'lang');
  assert.equal(after, target, `after following the language link to "${target}" on ${page.url()} (status ${response?.status()}), <html lang> is "${after}"`);
  return { from: before, to: after, response };
}

/**
 * Checks the page in its current language (axe, screenshot), switches language
 * through the header link and checks it again, then switches back. Collects the
 * failures of both languages before asserting, so one run reports them all.
 */
export async function checkPage(page, name, t) {
  const failures = await inspect(page, name, t);
  const startUrl = page.url();
  try {
    await switchLanguage(page);
    failures.push(...(await inspect(page, name, t)));
    await switchLanguage(page);
    assert.equal(page.url(), startUrl, 'switching the language twice comes back to the same address');
  } catch (e) {
    failures.push(`switching the language of ${name} (${startUrl}): ${e.message}`);
  }
  assert.ok(failures.length === 0, failures.join('\n\n'));
}

// --- As subtests ---------------------------------------------------------------------------

/**
 * checkPage as a subtest of the test t: a page's accessibility failures are
 * reported under its own name and fail t, but t goes on to check the rest of
 * its journey, so one run shows every page's violations and every functional
 * failure. Screenshots are named after t.
 */
export function checkPageStep(t, page, name) {
  return t.test(`accessibility: ${name}, both languages`, () => checkPage(page, name, t));
}

/** checkAxe (current language only) as a subtest of t. */
export async function checkAxeStep(t, page, name) {
  const lang = await page.getAttribute('html', 'lang');
  return t.test(`accessibility: ${name} (${lang})`, () => checkAxe(page, name, t));
}

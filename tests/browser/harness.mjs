// Shared set-up for the browser tests: one Dzong server and one Chromium per
// test file (started in before(), stopped in after()), a fresh browser context
// per test, and small helpers for forms and navigation.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { watchPage } from './a11y.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const DEMO = {
  citizen: { username: '11410012345', password: 'Tashi-Delek-2026', name: 'Sonam Choden' },
  officer: { username: 'pema.wangmo', password: 'Census-Officer-2026', name: 'Pema Wangmo' },
  agencyAdmin: { username: 'karma.dorji', password: 'Agency-Admin-2026', name: 'Karma Dorji' },
  platformAdmin: { username: 'tshering.yangzom', password: 'Platform-Admin-2026', name: 'Tshering Yangzom' },
  platformAdmin2: { username: 'ugyen.tenzin', password: 'Platform-Admin2-2026', name: 'Ugyen Tenzin' },
};

export function launchBrowser() {
  // Playwright gives the browser its own temporary --user-data-dir.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Registers before/after hooks that start a server and a browser for the
 * current test file. The returned object is filled in by before().
 */
export function useDzong() {
  const env = {
    server: null,
    browser: null,
    get baseURL() { return this.server.baseURL; },
    /** A fresh context (cookies, language) and page. CSP stays on. */
    async newPage(options = {}) {
      const context = await this.browser.newContext({
        baseURL: this.server.baseURL,
        locale: 'en-GB',
        viewport: { width: 1024, height: 768 },
        ...options,
      });
      context.setDefaultTimeout(10_000);
      context.setDefaultNavigationTimeout(15_000);
      const page = await context.newPage();
      watchPage(page);
      return page;
    },
  };
  before(async () => {
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    const exit = await env.server?.stop();
    // A clean shutdown on SIGTERM is part of the contract.
    if (exit) assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `dzong serve exit: ${JSON.stringify(exit)}\n${env.server.output()}`);
  });
  return env;
}

/** Runs action (a click, a key press) and waits for the page it causes to load; returns its response. */
export async function navigate(page, action) {
  const [response] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  return response;
}

export function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

/** Fills the sign-in form with the mouse and keyboard as a person would, and submits it. */
export async function signIn(page, { username, password }) {
  if (pathOf(page) !== '/sign-in') await page.goto('/sign-in');
  await page.fill('#username', username);
  await page.fill('#password', password);
  return navigate(page, () => page.click('main form button[type=submit]'));
}

/** Presses the header's "Sign out" button. */
export async function signOut(page) {
  return navigate(page, () => page.click('header form[action="/sign-out"] button[type=submit]'));
}

export async function headerLinks(page) {
  return page.$$eval('header nav a, header nav button', (els) =>
    els.map((e) => ({ tag: e.tagName.toLowerCase(), text: e.textContent.trim(), href: e.getAttribute('href') })));
}

export async function htmlLang(page) {
  return page.getAttribute('html', 'lang');
}

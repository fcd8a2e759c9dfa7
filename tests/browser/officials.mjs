// Officials for the browser tests of the stewards' and administrators'
// pages: each test makes its own (through the platform operator's API), so
// that a PostgreSQL database shared by every test file of a run never holds
// an authenticator enrolment another file does not know about.
import assert from 'node:assert/strict';
import { navigate, pathOf, signIn } from './harness.mjs';
import { currentStep, totp } from './totp.mjs';

/** A call to the JSON API as the platform operator. */
export async function asOperator(dzong, method, path, body, headers = {}) {
  const res = await fetch(dzong.baseURL + path, {
    method,
    headers: { Authorization: `Bearer ${dzong.server.operatorToken}`, 'Content-Type': 'application/json', ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A short token unique to this run, for names and texts a test looks for again. */
export const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

/** A new official of `organisation` holding `role`. */
export async function newOfficial(dzong, { prefix, organisation, role, name }) {
  const username = `${prefix}.${RUN}`.toLowerCase();
  const password = 'Browser-Test-Official-2026';
  const created = await asOperator(dzong, 'POST', '/api/v1/accounts', {
    kind: 'official', username, display_name: name, organisation, password,
  });
  assert.equal(created.status, 201, `the operator creates ${username}: ${JSON.stringify(created.body)}`);
  const granted = await asOperator(dzong, 'POST', `/api/v1/accounts/${created.body.id}/grants`, { role });
  assert.equal(granted.status, 201, `${role} is granted to ${username}: ${JSON.stringify(granted.body)}`);
  return { username, password, name };
}

/** Signs an official in for the first time: password, then the authenticator set-up. */
export async function signInOfficial(page, official) {
  await signIn(page, official);
  assert.equal(pathOf(page), '/account/totp', `${official.username} enrols TOTP first`);
  const secret = (await page.textContent('#totp-secret')).trim();
  await page.fill('#code', totp(secret, currentStep()));
  await navigate(page, () => page.click('main form button[type=submit]'));
  assert.equal(pathOf(page), '/account', `${official.username} is signed in`);
}

/** The rows of a table, keyed by its column headers. */
export async function tableRows(page, selector) {
  return page.evaluate((sel) => {
    const table = document.querySelector(sel);
    if (!table) return [];
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    return [...table.querySelectorAll('tbody tr')].map((tr) => {
      const cells = [...tr.querySelectorAll('td')].map((c) => c.textContent.trim());
      return Object.fromEntries(headers.map((h, i) => [h, cells[i]]));
    });
  }, selector);
}

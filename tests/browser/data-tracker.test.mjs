// The citizen's data tracker: after others looked at their account (with a
// purpose), the citizen finds each look on "Who used my data", filters it,
// meets a clear error for a bad date, and downloads the list. An auditor,
// enrolled with TOTP, searches the audit log. Every page in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, headerLinks, navigate, pathOf, signIn, useDzong } from './harness.mjs';
import { asOperator, tableRows } from './officials.mjs';
import { currentStep, totp } from './totp.mjs';

const dzong = useDzong();

/** A call to the JSON API as the platform operator. */
const operator = (method, path, body, headers) => asOperator(dzong, method, path, body, headers);

async function accountId(username) {
  const list = await operator('GET', '/api/v1/accounts');
  assert.equal(list.status, 200, 'the operator lists accounts');
  const found = list.body.items.find((a) => a.username === username);
  assert.ok(found, `${username} exists`);
  return found.id;
}

test('a citizen sees who used their data', async (t) => {
  const citizen = await accountId(DEMO.citizen.username);
  const purpose = `DCRC-2026-${String(Date.now() % 1000000).padStart(6, '0')}`;
  const look = await operator('GET', `/api/v1/accounts/${citizen}`, null, { 'X-Purpose': purpose });
  assert.equal(look.status, 200, 'the operator reads the citizen account');

  const page = await dzong.newPage();
  try {
    await signIn(page, DEMO.citizen);
    const links = await headerLinks(page);
    assert.ok(links.some((l) => l.href === '/my/data-access' && l.text === 'Who used my data'),
      `"Who used my data" in the header: ${JSON.stringify(links)}`);
    let res = await navigate(page, () => page.click('header a[href="/my/data-access"]'));
    assert.equal(res.status(), 200, 'GET /my/data-access');
    await checkPageStep(t, page, 'data-tracker');
    const rows = await tableRows(page, '#data-access');
    const mine = rows.find((r) => r.Purpose === purpose);
    assert.ok(mine, `the look with purpose ${purpose} is listed: ${JSON.stringify(rows)}`);
    assert.equal(mine.Who, 'Platform operator', 'the role is shown');
    assert.match(mine.Outcome, /Allowed/);

    // A date that does not exist: 422, an error summary linked to the field, nothing else changed.
    await page.fill('#from', '2026-02-30');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'a bad date is refused with 422');
    const summary = page.locator('.govuk-error-summary a[href="#from"]');
    assert.equal(await summary.count(), 1, 'the error summary links to the "From" field');
    assert.match(await summary.textContent(), /real date/);
    await checkPageStep(t, page, 'data-tracker-error');

    // Filter to an organisation that never looked: nothing listed.
    await page.goto('/my/data-access?organisation=DCRC');
    assert.equal(await page.locator('#no-access').count(), 1, 'no accesses by DCRC');

    // The download holds the same look.
    await page.goto('/my/data-access');
    const href = await page.getAttribute('main a[download]', 'href');
    const csv = await page.evaluate(async (url) => {
      const r = await fetch(url);
      return { type: r.headers.get('content-type'), text: await r.text() };
    }, href);
    assert.match(csv.type, /^text\/csv/);
    assert.ok(csv.text.includes(purpose), 'the CSV lists the look');
  } finally {
    await page.context().close();
  }
});

test('an auditor searches the audit log', async (t) => {
  const username = `auditor.${Date.now() % 100000}`;
  const password = 'Audit-Trail-2026-ok';
  const created = await operator('POST', '/api/v1/accounts', {
    kind: 'official', username, display_name: 'Kinley Wangchuk', organisation: 'ACC', password,
  });
  assert.equal(created.status, 201, `the operator creates an auditor: ${JSON.stringify(created.body)}`);
  const granted = await operator('POST', `/api/v1/accounts/${created.body.id}/grants`, { role: 'auditor' });
  assert.equal(granted.status, 201, 'the auditor role is granted');

  const page = await dzong.newPage();
  try {
    await signIn(page, { username, password });
    assert.equal(pathOf(page), '/account/totp', 'an official enrols TOTP first');
    const secret = (await page.textContent('#totp-secret')).trim();
    await page.fill('#code', totp(secret, currentStep()));
    await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(pathOf(page), '/account');

    let res = await navigate(page, () => page.click('header a[href="/audit"]'));
    assert.equal(res.status(), 200, 'GET /audit');
    await checkPageStep(t, page, 'audit-log');
    await page.fill('#actor', username);
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 200);
    const rows = await tableRows(page, '#audit-events');
    assert.ok(rows.length >= 1, 'the auditor\'s own earlier search is in the log');
    assert.ok(rows.every((r) => r.Actor.startsWith(username)), `only the auditor's events: ${JSON.stringify(rows)}`);
    assert.ok(rows.some((r) => r.Action === 'audit.search'), 'reading the log was recorded');

    await page.selectOption('#outcome', 'denied');
    await page.fill('#actor', '');
    await page.fill('#to', 'yesterday');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'a bad date is refused');
    assert.equal(await page.locator('.govuk-error-summary a[href="#to"]').count(), 1);
    await checkPageStep(t, page, 'audit-log-error');
  } finally {
    await page.context().close();
  }
});

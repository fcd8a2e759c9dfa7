// A census transfer is applied for through the API, agreed by the receiving
// head of household and approved by a DCRC officer; entering "transferred"
// asks the population register's stewards to update it. A steward finds the
// update under Register updates, is told to give a reason when declining,
// and marks it done. Every page checked with axe in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, headerLinks, navigate, pathOf, useDzong } from './harness.mjs';
import { asOperator, newOfficial, signInOfficial } from './officials.mjs';

const dzong = useDzong();

async function call(token, method, path, body, headers = {}) {
  const res = await fetch(dzong.baseURL + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A decided census transfer of the demo citizen; returns its reference. */
async function decidedTransfer() {
  const csv = await dzong.server.cli('export', 'population', '--format', 'csv');
  const cids = csv.split('\n').slice(1).map((line) => line.split(',')[0]).filter((c) => /^\d{11}$/.test(c));
  const head = cids.find((c) => c !== DEMO.citizen.username);
  assert.ok(head, 'a second person in the register');
  const made = await asOperator(dzong, 'POST', '/api/v1/accounts', {
    kind: 'citizen', username: head, display_name: 'Head of household', password: 'Head-Of-Household-2026',
  });
  assert.ok(made.status === 201 || made.status === 409, `the head's account: ${JSON.stringify(made.body)}`);
  if (made.status === 201) {
    assert.equal((await asOperator(dzong, 'POST', `/api/v1/accounts/${made.body.id}/grants`, { role: 'citizen' })).status, 201);
  }
  const token = async (user, scopes) => (await dzong.server.cli('tokens', 'issue', user, '--scopes', scopes)).trim();
  const citizen = await token(DEMO.citizen.username, 'account.self');
  const applied = await call(citizen, 'POST', '/api/v1/services/census-transfer/applications',
    { consent: true, answers: { new_household_number: '14000001', receiving_head_cid: head, reason: 'work' } },
    { 'Idempotency-Key': `steward-tasks-${Date.now()}` });
  assert.equal(applied.status, 201, JSON.stringify(applied.body));
  const reference = applied.body.reference;
  const headToken = await token(head, 'account.self');
  let seen = await call(headToken, 'GET', `/api/v1/applications/${reference}`);
  let acted = await call(headToken, 'POST', `/api/v1/applications/${reference}/actions`,
    { action: 'transition', transition: 'head_agrees', version: seen.body.version });
  assert.equal(acted.status, 200, JSON.stringify(acted.body));
  const officer = await token(DEMO.officer.username, 'account.self applications.work');
  seen = await call(officer, 'GET', `/api/v1/applications/${reference}`);
  acted = await call(officer, 'POST', `/api/v1/applications/${reference}/actions`,
    { action: 'transition', transition: 'approve', version: seen.body.version });
  assert.equal(acted.status, 200, JSON.stringify(acted.body));
  assert.equal(acted.body.state, 'transferred');
  return reference;
}

test('a steward closes the register update a decided application asks for', async (t) => {
  const reference = await decidedTransfer();
  const steward = await newOfficial(dzong, { prefix: 'tasks', organisation: 'DCRC', role: 'registry_steward', name: 'Dechen Wangmo' });
  const page = await dzong.newPage();
  try {
    await signInOfficial(page, steward);
    const links = await headerLinks(page);
    assert.ok(links.some((l) => l.href === '/steward/tasks' && l.text === 'Register updates'), JSON.stringify(links));
    let res = await navigate(page, () => page.click('header a[href="/steward/tasks"]'));
    assert.equal(res.status(), 200);
    assert.ok((await page.textContent('#tasks')).includes(reference), 'the update is listed');
    await checkPageStep(t, page, 'steward-tasks');

    res = await navigate(page, () => page.click(`#tasks a:has-text("${reference}")`));
    assert.equal(res.status(), 200);
    assert.match(pathOf(page), /^\/steward\/tasks\/\d+$/);
    assert.ok((await page.textContent('#answers')).includes('14000001'), 'the answers are shown');
    await checkPageStep(t, page, 'steward-task');

    // Declining needs a reason.
    await page.check('#outcome-declined');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 422);
    assert.equal(await page.getAttribute('.govuk-error-summary a', 'href'), '#note');
    await checkPageStep(t, page, 'steward-task-problem');

    await page.check('#outcome');
    await page.fill('#note', 'Moved to household 14000001');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(pathOf(page), '/steward/tasks');
    assert.equal(await page.locator('#no-tasks').count(), 1, 'nothing left to do');
    await checkPageStep(t, page, 'steward-tasks-done');
  } finally {
    await page.context().close();
  }
});

// A registry steward of DCRC finds the population register, searches it by
// key, opens a record, changes it with a reason and sees the new version in
// its history; reads it as on a date; meets a clear error summary for an
// invalid change, and a clear message when another steward changed the
// record first. Every page in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, headerLinks, navigate, pathOf, useDzong } from './harness.mjs';
import { RUN, asOperator, newOfficial, signInOfficial, tableRows } from './officials.mjs';

const dzong = useDzong();

/** The keys in the first column of the records table. */
function keys(page) {
  return page.$$eval('#records tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
}

test('the demo steward and the MOH administrator are seeded', async () => {
  const list = await asOperator(dzong, 'GET', '/api/v1/accounts');
  assert.equal(list.status, 200);
  const names = list.body.items.map((a) => a.username);
  assert.ok(names.includes('dechen.wangmo'), 'dechen.wangmo (DCRC registry steward)');
  assert.ok(names.includes('kinley.wangchuk'), 'kinley.wangchuk (MOH agency administrator)');
});

test('a steward keeps a record of the population register', async (t) => {
  const steward = await newOfficial(dzong, { prefix: 'steward', organisation: 'DCRC', role: 'registry_steward', name: 'Dechen Wangmo' });
  const page = await dzong.newPage();
  try {
    await signInOfficial(page, steward);
    const links = await headerLinks(page);
    assert.ok(links.some((l) => l.href === '/steward/registries' && l.text === 'Registers'), `"Registers" in the header: ${JSON.stringify(links)}`);
    assert.ok(links.some((l) => l.href === '/steward/corrections'), '"Corrections" in the header');

    let res = await navigate(page, () => page.click('header a[href="/steward/registries"]'));
    assert.equal(res.status(), 200, 'GET /steward/registries');
    assert.deepEqual(await page.$$eval('#registers a', (as) => as.map((a) => a.textContent.trim())), ['Population register'],
      'DCRC keeps the population register only');
    await checkPageStep(t, page, 'steward-registers');

    res = await navigate(page, () => page.click('#registers a'));
    assert.equal(pathOf(page), '/steward/registries/population');
    const first = await keys(page);
    assert.equal(first.length, 25, 'a page holds 25 records');
    await checkPageStep(t, page, 'steward-records');
    res = await navigate(page, () => page.click('a[rel=next]'));
    assert.equal(res.status(), 200, 'the next page');
    const second = await keys(page);
    assert.ok(second.length > 0 && second[0] > first[24], 'the next page goes on in key order');
    res = await navigate(page, () => page.click('a[rel=prev]'));
    assert.deepEqual(await keys(page), first, 'and the previous page is the first again');

    // Search by the beginning of a key, then open the record.
    await page.fill('#q', DEMO.citizen.username.slice(0, 8));
    await navigate(page, () => page.click('main form button[type=submit]'));
    const found = await keys(page);
    assert.ok(found.length >= 1 && found.every((k) => k.startsWith(DEMO.citizen.username.slice(0, 8))), JSON.stringify(found));
    await page.fill('#q', DEMO.citizen.username);
    await navigate(page, () => page.click('main form button[type=submit]'));
    assert.deepEqual(await keys(page), [DEMO.citizen.username]);
    res = await navigate(page, () => page.click(`#records a[href$="/${DEMO.citizen.username}"]`));
    assert.equal(res.status(), 200);
    assert.equal(pathOf(page), `/steward/registries/population/records/${DEMO.citizen.username}`);
    assert.ok((await page.textContent('#record')).includes('Sonam Choden'));
    const before = await tableRows(page, '#history');
    await checkPageStep(t, page, 'steward-record');

    // Change the village, with a reason.
    res = await navigate(page, () => page.click('#edit-record'));
    assert.equal(res.status(), 200, 'the edit form');
    await checkPageStep(t, page, 'steward-record-edit');
    const village = `Chiwog ${RUN}`;
    const reason = `Household moved, letter ${RUN}`;
    await page.fill('#village', village);
    await page.fill('#reason', reason);
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(pathOf(page), `/steward/registries/population/records/${DEMO.citizen.username}`, 'saving returns to the record');
    assert.ok((await page.textContent('#record')).includes(village), 'the record shows the new village');
    const after = await tableRows(page, '#history');
    assert.equal(after.length, before.length + 1, 'one more version in the history');
    assert.equal(after[0].Why, reason, 'the newest version says why');
    assert.equal(after[0].Who, steward.username, 'and who');

    // As on a date before the register held the person: no record then.
    await page.fill('#as_of', '2000-01-01');
    await navigate(page, () => page.click('main form[method=get] button[type=submit]'));
    assert.equal(await page.locator('#no-record-then').count(), 1, 'no record on 2000-01-01');
    await page.fill('#as_of', '2026-02-30');
    res = await navigate(page, () => page.click('main form[method=get] button[type=submit]'));
    assert.equal(res.status(), 422, 'a date that does not exist is refused');
    assert.equal(await page.locator('.govuk-error-summary a[href="#as_of"]').count(), 1);
    await checkPageStep(t, page, 'steward-record-bad-date');

    // An invalid change: 422, each problem linked to its field, nothing saved.
    await page.goto(`/steward/registries/population/records/${DEMO.citizen.username}/edit`);
    await page.fill('#date_of_birth', '1994-02-30');
    await page.fill('#reason', '');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'an invalid change is refused with 422');
    const summary = await page.$$eval('.govuk-error-summary a', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
    assert.ok(summary.some((s) => s.href === '#date_of_birth' && /Date of birth must be a real date/.test(s.text)), JSON.stringify(summary));
    assert.ok(summary.some((s) => s.href === '#reason' && /Reason for the change/.test(s.text)), JSON.stringify(summary));
    assert.equal(await page.inputValue('#date_of_birth'), '1994-02-30', 'what was typed is kept');
    await checkPageStep(t, page, 'steward-record-edit-invalid');

    // Two stewards at once: the second to save is told, and shown the newer version.
    const other = await page.context().newPage();
    await other.goto(`/steward/registries/population/records/${DEMO.citizen.username}/edit`);
    await page.goto(`/steward/registries/population/records/${DEMO.citizen.username}/edit`);
    await other.fill('#reason', `Second look ${RUN}`);
    await navigate(other, () => other.click('main form button[type=submit]'));
    await other.close();
    await page.fill('#reason', `Late change ${RUN}`);
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 409, 'a stale version is refused with 409');
    assert.equal(await page.locator('.govuk-error-summary a[href="#conflict"]').count(), 1);
    assert.ok((await page.textContent('#conflict')).includes('Someone else changed this record'));
    assert.ok((await page.textContent('main')).includes(`Second look ${RUN}`), 'the newer version says why it changed');
    assert.equal(await page.inputValue('input[name=version]'), String(after.length + 1),
      'the form now edits the newer version, so saving again is a deliberate choice');
    await checkPageStep(t, page, 'steward-record-conflict');
    // (Checking the other language reloaded the form at the newer version.)
    await page.fill('#reason', `Late change ${RUN}`);
    res = await navigate(page, () => page.click('main form[method=post] button[type=submit]'));
    assert.equal(pathOf(page), `/steward/registries/population/records/${DEMO.citizen.username}`, 'saving again over the newer version works');
    assert.equal((await tableRows(page, '#history'))[0].Why, `Late change ${RUN}`);
  } finally {
    await page.context().close();
  }
});

test('a steward of another organisation does not see DCRC\'s register', async () => {
  const outsider = await newOfficial(dzong, { prefix: 'outsider', organisation: 'NLCS', role: 'registry_steward', name: 'Tashi Lhamo' });
  const page = await dzong.newPage();
  try {
    await signInOfficial(page, outsider);
    const res = await page.goto(`/steward/registries/population/records/${DEMO.citizen.username}`);
    assert.equal(res.status(), 404, 'NLCS stewards get 404 for a population record');
    await page.goto('/steward/registries');
    assert.deepEqual(await page.$$eval('#registers a', (as) => as.map((a) => a.textContent.trim())), ['Land (thram) register']);
  } finally {
    await page.context().close();
  }
});

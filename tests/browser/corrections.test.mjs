// A citizen asks DCRC to correct their record (meeting a clear error
// summary first); a steward declines one request with a reason, and does
// another by changing the record through the edit form; the citizen sees
// both answers. Every page in both languages. The citizen is a person of
// the seeded population other than the demo citizen, whose data tracker
// another test expects to hold no look by DCRC (on PostgreSQL the test files
// of a run share one database).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, signIn, useDzong } from './harness.mjs';
import { RUN, asOperator, newOfficial, signInOfficial, tableRows } from './officials.mjs';

const dzong = useDzong();

/** The citizen's row for the request whose description holds `text`. */
async function myRequest(page, text) {
  await page.goto('/my/corrections');
  return (await tableRows(page, '#corrections')).find((r) => r['What is wrong'].includes(text));
}

test('a citizen asks for corrections and sees the steward\'s answers', async (t) => {
  const steward = await newOfficial(dzong, { prefix: 'corrections', organisation: 'DCRC', role: 'registry_steward', name: 'Dechen Wangmo' });
  const citizen = await dzong.newPage();
  const office = await dzong.newPage();
  try {
    await signInOfficial(office, steward);
    await office.goto('/steward/registries/population');
    const cids = await office.$$eval('#records tbody tr td:first-child', (tds) => tds.map((td) => td.textContent.trim()));
    const cid = cids.find((c) => c !== DEMO.citizen.username);
    assert.ok(cid, 'a person of the population');
    const person = { username: cid, password: 'Correction-Citizen-2026' };
    const made = await asOperator(dzong, 'POST', '/api/v1/accounts',
      { kind: 'citizen', username: cid, display_name: 'Citizen of the population', password: person.password });
    assert.ok(made.status === 201 || made.status === 409, `the citizen's account: ${JSON.stringify(made.body)}`);
    if (made.status === 201) {
      const granted = await asOperator(dzong, 'POST', `/api/v1/accounts/${made.body.id}/grants`, { role: 'citizen' });
      assert.equal(granted.status, 201, `the citizen role: ${JSON.stringify(granted.body)}`);
    }

    await signIn(citizen, person);
    await navigate(citizen, () => citizen.click('header a[href="/my/records"]'));
    let res = await navigate(citizen, () => citizen.click('main a[href^="/my/corrections/new?registry=population"]'));
    assert.equal(res.status(), 200, 'the correction form');
    await checkPageStep(t, citizen, 'correction-new');

    // Too short, and no field chosen: 422, each problem linked to its field.
    await citizen.fill('#description', 'wrong');
    res = await navigate(citizen, () => citizen.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'an incomplete request is refused with 422');
    const summary = await citizen.$$eval('.govuk-error-summary a', (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent.trim() })));
    assert.deepEqual(summary.map((s) => s.href).sort(), ['#description', '#field']);
    assert.ok(summary.some((s) => /What is wrong must be 10 to 1000 characters/.test(s.text)), JSON.stringify(summary));
    assert.equal(await citizen.inputValue('#description'), 'wrong', 'what was typed is kept');
    await checkPageStep(t, citizen, 'correction-new-invalid');
    await citizen.goto('/my/corrections/new?registry=population');  // the language check left the form

    const declined = `My date of birth is wrong ${RUN}`;
    await citizen.selectOption('#field', 'date_of_birth');
    await citizen.fill('#description', declined);
    await citizen.fill('#proposed_value', '1990-04-18');
    res = await navigate(citizen, () => citizen.click('main form button[type=submit]'));
    assert.equal(pathOf(citizen), '/my/corrections', 'asking goes to the list of requests');
    assert.equal((await myRequest(citizen, declined))?.Status, 'Waiting');
    await checkPageStep(t, citizen, 'my-corrections');

    const done = `My village is spelt wrong ${RUN}`;
    await citizen.goto('/my/corrections/new?registry=population');
    await citizen.selectOption('#field', 'village');
    await citizen.fill('#description', done);
    await citizen.fill('#proposed_value', `Dechenphu ${RUN}`);
    await navigate(citizen, () => citizen.click('main form button[type=submit]'));

    // The steward sees both and declines the first with a reason.
    res = await navigate(office, () => office.click('header a[href="/steward/corrections"]'));
    assert.equal(res.status(), 200, 'GET /steward/corrections');
    await checkPageStep(t, office, 'steward-corrections');
    const open = await office.$$eval('#corrections tbody tr', (trs) => trs.map((tr) => ({
      href: tr.querySelector('a').getAttribute('href'), key: tr.children[2].textContent.trim(), field: tr.children[3].textContent.trim(),
    })));
    const mine = open.filter((r) => r.key === cid);
    assert.ok(mine.length >= 2, `both requests are open: ${JSON.stringify(open)}`);
    const first = mine[mine.length - 2];
    const second = mine[mine.length - 1];
    assert.equal(first.field, 'Date of birth');
    assert.equal(second.field, 'Village or chiwog');

    await navigate(office, () => office.click(`#corrections a[href="${first.href}"]`));
    assert.ok((await office.textContent('#correction')).includes(declined), 'the request is shown');
    assert.ok((await office.textContent('#record')).includes(cid), 'beside the record');
    await checkPageStep(t, office, 'steward-correction');
    await office.check('#outcome-declined');
    res = await navigate(office, () => office.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'declining without a reason is refused');
    assert.equal(await office.locator('.govuk-error-summary a[href="#answer"]').count(), 1);
    await checkPageStep(t, office, 'steward-correction-invalid');
    await office.check('#outcome-declined');
    await office.fill('#answer', 'The birth certificate shows the date we hold.');
    await navigate(office, () => office.click('main form button[type=submit]'));
    assert.equal(pathOf(office), '/steward/corrections');

    // The second one: change the record through the edit form, then mark it done.
    await navigate(office, () => office.click(`#corrections a[href="${second.href}"]`));
    await navigate(office, () => office.click('#make-change'));
    assert.match(await office.inputValue('#reason'), /^Correction request \d+/, 'the reason names the request');
    await office.fill('#village', `Dechenphu ${RUN}`);
    await navigate(office, () => office.click('main form button[type=submit]'));
    assert.equal(pathOf(office), second.href, 'saving returns to the request');
    assert.ok((await office.textContent('#record')).includes(`Dechenphu ${RUN}`), 'the record is changed');
    await office.check('#outcome');
    await office.fill('#answer', 'Corrected from your household register.');
    await navigate(office, () => office.click('main form button[type=submit]'));

    // The citizen sees both answers.
    const no = await myRequest(citizen, declined);
    assert.equal(no.Status, 'Declined');
    assert.match(no.Answer, /The birth certificate shows the date we hold/);
    const yes = await myRequest(citizen, done);
    assert.equal(yes.Status, 'Corrected');
    assert.match(yes.Answer, /Corrected from your household register/);
    await checkPageStep(t, citizen, 'my-corrections-answered');
    await citizen.goto('/my/records');
    assert.ok((await citizen.textContent('main')).includes(`Dechenphu ${RUN}`), 'My records shows the corrected village');
  } finally {
    await citizen.context().close();
    await office.context().close();
  }
});

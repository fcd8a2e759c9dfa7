// The Ministry of Health's administrator asks DCRC for an agreement to read
// the population register (meeting a clear error summary first), DCRC's
// administrator approves it, and both see it approved; an administrator of a
// third organisation is told it does not exist. Every page in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { headerLinks, navigate, pathOf, useDzong } from './harness.mjs';
import { RUN, newOfficial, signInOfficial, tableRows } from './officials.mjs';

const dzong = useDzong();

test('an agency asks for an agreement and the custodian approves it', async (t) => {
  const consumer = await newOfficial(dzong, { prefix: 'moh.admin', organisation: 'MOH', role: 'agency_administrator', name: 'Kinley Wangchuk' });
  const custodian = await newOfficial(dzong, { prefix: 'dcrc.admin', organisation: 'DCRC', role: 'agency_administrator', name: 'Karma Dorji' });
  const outsider = await newOfficial(dzong, { prefix: 'rbp.admin', organisation: 'RBP', role: 'agency_administrator', name: 'Sangay Dema' });
  const asker = await dzong.newPage();
  const decider = await dzong.newPage();
  const third = await dzong.newPage();
  try {
    await signInOfficial(asker, consumer);
    const links = await headerLinks(asker);
    assert.ok(links.some((l) => l.href === '/agreements' && l.text === 'Agreements'), `"Agreements" in the header: ${JSON.stringify(links)}`);
    let res = await navigate(asker, () => asker.click('header a[href="/agreements"]'));
    assert.equal(res.status(), 200, 'GET /agreements');
    await checkPageStep(t, asker, 'agreements');

    res = await navigate(asker, () => asker.click('#new-agreement'));
    assert.equal(pathOf(asker), '/agreements/new');
    await checkPageStep(t, asker, 'agreement-choose-registry');
    await asker.check('#registry-population');
    res = await navigate(asker, () => asker.click('main form button[type=submit]'));
    assert.equal(pathOf(asker), '/agreements/new?registry=population');
    await checkPageStep(t, asker, 'agreement-new');

    // Nothing ticked, a bad date, no legal basis: 422 with every problem linked.
    const purpose = `HEALTH-${RUN}`.toUpperCase();
    await asker.fill('#subsystem', 'HIMS');
    await asker.fill('#purpose_code', purpose);
    await asker.fill('#purpose_text', 'To check the identity and age of patients registering at hospitals.');
    await asker.fill('#legal_reference', 'Medical and Health Council Act 2002, section 12');
    await asker.fill('#valid_from', '2026-01-01');
    await asker.fill('#valid_to', '2027-02-30');
    res = await navigate(asker, () => asker.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'an incomplete request is refused with 422');
    const summary = await asker.$$eval('.govuk-error-summary a', (as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(new Set(summary), new Set(['#fields', '#legal_basis', '#valid_to']), JSON.stringify(summary));
    assert.equal(await asker.inputValue('#purpose_code'), purpose, 'what was typed is kept');
    await checkPageStep(t, asker, 'agreement-new-invalid');

    await asker.goto('/agreements/new?registry=population');
    await asker.check('#fields');  // the key field, cid
    await asker.check('#field-given_name');
    await asker.check('#field-date_of_birth');
    await asker.fill('#subsystem', 'HIMS');
    await asker.fill('#purpose_code', purpose);
    await asker.fill('#purpose_text', 'To check the identity and age of patients registering at hospitals.');
    await asker.check('#legal_basis');
    await asker.fill('#legal_reference', 'Medical and Health Council Act 2002, section 12');
    await asker.fill('#valid_from', '2026-01-01');
    await asker.fill('#valid_to', '2030-12-31');
    await asker.check('#log_bodies');  // the message log keeps each answer in full
    res = await navigate(asker, () => asker.click('main form button[type=submit]'));
    const path = pathOf(asker);
    assert.match(path, /^\/agreements\/\d+$/, `a valid request goes to the agreement (status ${res.status()})`);
    assert.equal((await asker.textContent('#agreement-status')).trim(), 'Requested');
    assert.ok((await asker.textContent('main')).includes('Each answer kept in full'), 'the message log keeps bodies');
    assert.equal(await asker.locator('#approve').count(), 0, 'the asking organisation cannot approve');
    await checkPageStep(t, asker, 'agreement-requested');

    // The custodian's administrator finds it among DCRC's and approves it.
    await signInOfficial(decider, custodian);
    await navigate(decider, () => decider.click('header a[href="/agreements"]'));
    const incoming = await tableRows(decider, '#as-custodian');
    const mine = incoming.find((r) => r['Purpose code'] === purpose);
    assert.ok(mine, `DCRC sees the request: ${JSON.stringify(incoming)}`);
    assert.equal(mine.Status, 'Requested');
    assert.equal(mine['Asked by'], 'Ministry of Health');
    await navigate(decider, () => decider.click(`#as-custodian a[href="${path}"]`));
    await checkPageStep(t, decider, 'agreement-to-decide');
    await decider.fill('#note', `Approved for patient registration ${RUN}`);
    res = await navigate(decider, () => decider.click('#approve'));
    assert.equal(pathOf(decider), path, 'deciding returns to the agreement');
    assert.equal((await decider.textContent('#agreement-status')).trim(), 'Approved');
    assert.ok((await decider.textContent('#agreement')).includes(`Approved for patient registration ${RUN}`));
    assert.equal(await decider.locator('#revoke').count(), 1, 'an approved agreement can be revoked');
    await checkPageStep(t, decider, 'agreement-approved');

    // The asking organisation sees it approved, in its own table.
    await asker.goto('/agreements');
    const asked = (await tableRows(asker, '#as-consumer')).find((r) => r['Purpose code'] === purpose);
    assert.equal(asked?.Status, 'Approved', 'the consumer sees it approved');
    assert.equal(asked.Custodian, 'Department of Civil Registration and Census');

    // Another organisation's administrator learns nothing of it.
    await signInOfficial(third, outsider);
    res = await third.goto(path);
    assert.equal(res.status(), 404, 'RBP gets 404');
  } finally {
    await asker.context().close();
    await decider.context().close();
    await third.context().close();
  }
});

// A citizen reads what the registers hold about them, gives a consent and
// revokes it, on pages checked in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, headerLinks, navigate, pathOf, signIn, useDzong } from './harness.mjs';

const dzong = useDzong();

test('a citizen sees their records and manages a consent', async (t) => {
  const page = await dzong.newPage();
  try {
    await signIn(page, DEMO.citizen);
    const links = await headerLinks(page);
    assert.ok(links.some((l) => l.href === '/my/records'), `"My records" in the header: ${JSON.stringify(links)}`);

    let res = await navigate(page, () => page.click('header a[href="/my/records"]'));
    assert.equal(res.status(), 200, 'GET /my/records');
    const main = await page.textContent('main');
    assert.ok(main.includes('Population register'), 'the population register is shown');
    assert.ok(main.includes('Department of Civil Registration and Census'), 'its custodian is named');
    assert.ok(main.includes(DEMO.citizen.name), 'the record holds the name');
    assert.ok(main.includes('Land (thram) register · CHA-000001'), 'her plot of land is shown');
    assert.ok(main.includes('National Land Commission'), 'with its custodian');
    assert.ok(main.includes('Business licence register · 1000001'), 'and her business licence');
    await checkPageStep(t, page, 'my-records');

    // A correction can be asked for the plot too: the form is about that record.
    res = await navigate(page, () => page.click('a[href="/my/corrections/new?registry=land&record=CHA-000001"]'));
    assert.equal(res.status(), 200, 'the correction form for the plot');
    assert.equal(await page.inputValue('input[name=registry]'), 'land');
    assert.equal(await page.inputValue('input[name=record]'), 'CHA-000001');
    await checkPageStep(t, page, 'correction-for-a-plot');
    res = await navigate(page, () => page.goto(new URL('/my/records', page.url()).href));

    // A consent given through the API, as a consent screen of an agency's service would.
    const given = await page.evaluate(async () => {
      const r = await fetch('/api/v1/me/consents', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ consumer: 'MOH', registry: 'population', purpose_code: 'INSURANCE',
          fields: ['cid', 'given_name'], valid_to: '2029-12-31' }),
      });
      return { status: r.status, body: await r.json() };
    });
    assert.equal(given.status, 201, `consent given: ${JSON.stringify(given.body)}`);

    res = await navigate(page, () => page.click('header a[href="/my/consents"]'));
    assert.equal(res.status(), 200, 'GET /my/consents');
    await checkPageStep(t, page, 'my-consents');
    const row = page.locator('#consents tbody tr', { hasText: 'INSURANCE' }).first();
    assert.match(await row.textContent(), /Active/);
    res = await navigate(page, () => row.locator('button[type=submit]').click());
    assert.equal(pathOf(page), '/my/consents', 'revoking returns to the list');
    assert.match(await page.locator('#consents tbody tr', { hasText: 'INSURANCE' }).first().textContent(), /Revoked/);
    assert.equal(await page.locator('#consents tbody tr', { hasText: 'INSURANCE' }).first().locator('button').count(), 0,
      'a revoked consent has no revoke button');
  } finally {
    await page.context().close();
  }
});

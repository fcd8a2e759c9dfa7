// A citizen signs in with their Citizenship ID and password, sees their
// account, and signs out again, with every page checked in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, headerLinks, navigate, pathOf, signIn, signOut, useDzong } from './harness.mjs';

const dzong = useDzong();

test('citizen signs in and out', async (t) => {
  const page = await dzong.newPage();
  try {
    let res = await page.goto('/');
    assert.equal(res.status(), 200, 'GET /');
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'English by default');
    await checkPageStep(t, page, 'home');

    res = await page.goto('/sign-in');
    assert.equal(res.status(), 200, 'GET /sign-in');
    await checkPageStep(t, page, 'sign-in');

    res = await signIn(page, DEMO.citizen);
    assert.equal(pathOf(page), '/account', 'a citizen lands on /account after signing in');
    assert.equal(res.status(), 200);
    await checkPageStep(t, page, 'account');

    const main = page.locator('main');
    await assert.doesNotReject(
      main.locator('.govuk-summary-list__value', { hasText: DEMO.citizen.name }).first().waitFor(),
      'the account page shows the name');
    assert.ok((await main.textContent()).includes(DEMO.citizen.username), 'the account page shows the username');
    assert.ok(await main.locator('.govuk-summary-list .govuk-tag').count() >= 1, 'the roles are shown as tags');
    assert.ok(await main.locator('table.govuk-table tbody tr').count() >= 1, 'the sessions table lists this session');

    const signedIn = await headerLinks(page);
    assert.ok(signedIn.some((l) => l.href === '/account' && l.text === 'My account'), `"My account" in the header: ${JSON.stringify(signedIn)}`);
    assert.ok(signedIn.some((l) => l.tag === 'button' && l.text === 'Sign out'), `"Sign out" button in the header: ${JSON.stringify(signedIn)}`);
    assert.ok(!signedIn.some((l) => l.href === '/admin/accounts'), `no "Administration" link for a citizen: ${JSON.stringify(signedIn)}`);
    assert.ok(!signedIn.some((l) => l.href === '/sign-in'), `no "Sign in" link when signed in: ${JSON.stringify(signedIn)}`);

    // Administration needs accounts.read, which a citizen does not have.
    res = await page.goto('/admin/accounts');
    assert.equal(res.status(), 403, 'a citizen is refused /admin/accounts');
    assert.equal(pathOf(page), '/admin/accounts');
    assert.ok(await page.locator('main h1').count() === 1 && await page.locator('header, footer').count() === 2,
      'the refusal is a page in the layout');
    await navigate(page, () => page.click('header a[href="/account"]'));

    await signOut(page);
    assert.equal(pathOf(page), '/', 'signing out lands on the home page');
    const signedOut = await headerLinks(page);
    assert.ok(signedOut.some((l) => l.href === '/sign-in' && l.text === 'Sign in'), `"Sign in" in the header again: ${JSON.stringify(signedOut)}`);
    assert.ok(!signedOut.some((l) => l.tag === 'button'), `no "Sign out" button after signing out: ${JSON.stringify(signedOut)}`);

    await navigate(page, () => page.goto('/account'));
    assert.equal(new URL(page.url()).pathname, '/sign-in', `/account redirects to /sign-in after signing out (at ${pathOf(page)})`);
  } finally {
    await page.context().close();
  }
});

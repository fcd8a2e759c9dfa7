// An official (the DCRC agency administrator) enrols an authenticator app on
// first sign-in, sees only their agency's accounts in the administration, and
// signs in later with a password and a one-time code that cannot be replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAxeStep, checkPageStep } from './a11y.mjs';
import { DEMO, headerLinks, navigate, pathOf, signIn, signOut, useDzong } from './harness.mjs';
import { currentStep, totp } from './totp.mjs';

const dzong = useDzong();

async function submitCode(page, code) {
  await page.fill('#code', code);
  return navigate(page, () => page.click('main form button[type=submit]'));
}

/** The rows of the accounts table, keyed by its column headers. */
async function accountRows(page) {
  return page.evaluate(() => {
    const table = [...document.querySelectorAll('main table')].find((t) => t.querySelector('thead'));
    if (!table) return { caption: null, headers: [], rows: [] };
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => {
      const cells = [...tr.querySelectorAll('td, th')].map((c) => c.textContent.trim());
      return Object.fromEntries(headers.map((h, i) => [h, cells[i]]));
    });
    return { caption: table.querySelector('caption')?.textContent.trim() ?? null, headers, rows };
  });
}

test('official enrols TOTP and signs in with a code', async (t) => {
  const page = await dzong.newPage();
  try {
    // First sign-in: the password, then the authenticator set-up.
    let res = await signIn(page, DEMO.agencyAdmin);
    assert.equal(pathOf(page), '/account/totp', pathOf(page) === '/sign-in/totp'
      ? 'karma.dorji already has TOTP in this database: with TEST_POSTGRES_URL, give each run a fresh database'
      : 'an official without TOTP is sent to /account/totp');
    assert.equal(res.status(), 200);
    await checkPageStep(t, page, 'totp-enrol');
    assert.ok(await page.locator('main .dzong-qr svg, main svg, main img').count() >= 1, 'the enrolment page shows a QR code');

    const secret = (await page.textContent('#totp-secret')).trim();
    assert.match(secret, /^[A-Z2-7 =]+$/i, `the secret is base32: ${secret}`);
    assert.equal(await page.inputValue('main form input[type=hidden][name=secret]'), secret,
      'the form carries the secret that is shown');
    const enrolStep = currentStep();
    res = await submitCode(page, totp(secret, enrolStep));
    assert.equal(pathOf(page), '/account', `a correct code completes enrolment (status ${res.status()})`);
    assert.ok((await page.textContent('main')).includes(DEMO.agencyAdmin.name), 'the account page shows the name');

    // Administration: only DCRC's accounts.
    const links = await headerLinks(page);
    const admin = links.find((l) => l.href === '/admin/accounts');
    assert.ok(admin && admin.text === 'Administration', `an "Administration" link in the header: ${JSON.stringify(links)}`);
    res = await navigate(page, () => page.click('header a[href="/admin/accounts"]'));
    assert.equal(res.status(), 200, 'GET /admin/accounts');
    await checkPageStep(t, page, 'admin-accounts');
    const table = await accountRows(page);
    assert.match(table.caption ?? '', /DCRC/, `the caption names the agency: ${table.caption}`);
    const orgColumn = table.headers.find((h) => /organisation/i.test(h));
    const userColumn = table.headers.find((h) => /username/i.test(h));
    assert.ok(orgColumn && userColumn, `organisation and username columns: ${JSON.stringify(table.headers)}`);
    assert.ok(table.rows.length >= 2, `the DCRC accounts are listed: ${JSON.stringify(table.rows)}`);
    for (const row of table.rows) assert.equal(row[orgColumn], 'DCRC', `only DCRC accounts: ${JSON.stringify(row)}`);
    const usernames = table.rows.map((r) => r[userColumn]);
    assert.ok(usernames.includes(DEMO.officer.username), `pema.wangmo is listed: ${usernames}`);
    assert.ok(usernames.includes(DEMO.agencyAdmin.username), `karma.dorji is listed: ${usernames}`);
    assert.ok(!usernames.includes(DEMO.platformAdmin.username), `tshering.yangzom (GOVTECH) is not listed: ${usernames}`);
    assert.ok(!usernames.includes(DEMO.citizen.username), `the citizen (no agency) is not listed: ${usernames}`);

    // Second sign-in: the password, then a code.
    await signOut(page);
    assert.equal(pathOf(page), '/');
    res = await signIn(page, DEMO.agencyAdmin);
    assert.equal(pathOf(page), '/sign-in/totp', 'an enrolled official is asked for a code');
    assert.equal(res.status(), 200);
    await checkPageStep(t, page, 'totp-challenge');

    // The enrolment code was used: it is refused now.
    res = await submitCode(page, totp(secret, enrolStep));
    assert.equal(res.status(), 422, 'the code used for enrolment is refused at sign-in (replay)');
    assert.equal(pathOf(page), '/sign-in/totp');
    assert.ok(await page.locator('.govuk-error-summary').count() === 1, 'the replayed code shows the error summary');

    // The code for the next time step (the current one was used) is accepted.
    const nextStep = Math.max(currentStep(), enrolStep) + 1;
    const code = totp(secret, nextStep);
    res = await submitCode(page, code);
    assert.equal(pathOf(page), '/account', `the next step's code signs in (status ${res.status()})`);

    // Replay: the same code again, after signing out and in with the password.
    await signOut(page);
    res = await signIn(page, DEMO.agencyAdmin);
    assert.equal(pathOf(page), '/sign-in/totp');
    res = await submitCode(page, code);
    assert.equal(res.status(), 422, 'a code used once is refused the second time');
    assert.equal(pathOf(page), '/sign-in/totp', 'the replayed code does not sign in');
    assert.ok(await page.locator('.govuk-error-summary').count() === 1, 'the replayed code shows the error summary');
    const codeError = await page.locator('#code-error').textContent().catch(() => null);
    assert.ok(codeError && codeError.trim(), 'the code field shows its error');
    await checkAxeStep(t, page, 'totp-replayed');
    await navigate(page, () => page.goto('/account'));
    assert.notEqual(pathOf(page), '/account', 'without a valid code the account stays closed');
  } finally {
    await page.context().close();
  }
});

test('platform administrator sees the accounts of every organisation', async (t) => {
  const page = await dzong.newPage();
  try {
    await signIn(page, DEMO.platformAdmin);
    assert.equal(pathOf(page), '/account/totp', 'a platform administrator without TOTP is sent to /account/totp');
    const secret = (await page.textContent('#totp-secret')).trim();
    await submitCode(page, totp(secret));
    assert.equal(pathOf(page), '/account', 'enrolled');

    const res = await navigate(page, () => page.click('header a[href="/admin/accounts"]'));
    assert.equal(res.status(), 200, 'GET /admin/accounts');
    const table = await accountRows(page);
    const orgColumn = table.headers.find((h) => /organisation/i.test(h));
    const userColumn = table.headers.find((h) => /username/i.test(h));
    const usernames = table.rows.map((r) => r[userColumn]);
    for (const who of Object.values(DEMO)) assert.ok(usernames.includes(who.username), `${who.username} is listed: ${usernames}`);
    const orgs = new Set(table.rows.map((r) => r[orgColumn]));
    assert.ok(orgs.has('DCRC') && orgs.has('GOVTECH'), `accounts of several organisations: ${[...orgs]}`);
    assert.doesNotMatch(table.caption ?? '', /DCRC|GOVTECH/, `the caption is not limited to one organisation: ${table.caption}`);
    await checkAxeStep(t, page, 'admin-accounts-all');
  } finally {
    await page.context().close();
  }
});

// Notifications in the browser: a citizen finds their contact details from
// "My account", meets a clear error for a bad address and number, saves good
// ones and chooses Dzongkha for their messages; after a password reset is
// asked for, the inbox shows it (without the link) in both languages; an
// officer's list of failed notices. Every page checked with axe in both
// languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, signIn, useDzong } from './harness.mjs';
import { newOfficial, signInOfficial } from './officials.mjs';

const dzong = useDzong();

test('a citizen sets their contact details', async (t) => {
  const page = await dzong.newPage();
  try {
    await signIn(page, DEMO.citizen);
    await page.goto('/account');
    let res = await navigate(page, () => page.click('main a[href="/account/contact"]'));
    assert.equal(res.status(), 200, 'GET /account/contact from the account page');
    assert.equal(pathOf(page), '/account/contact');
    await checkPageStep(t, page, 'contact-details');

    // A bad address and number: 422, each linked from the summary, nothing saved.
    await page.fill('#email', 'sonam@example');
    await page.fill('#mobile', '12345678');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 422, 'bad contact details are refused with 422');
    const email = page.locator('.govuk-error-summary a[href="#email"]');
    const mobile = page.locator('.govuk-error-summary a[href="#mobile"]');
    assert.equal(await email.count(), 1, 'the summary links to the email field');
    assert.equal(await mobile.count(), 1, 'the summary links to the mobile field');
    assert.match(await email.textContent(), /email address in the right form/);
    assert.match(await mobile.textContent(), /17 or 77 and six more digits/);
    assert.equal(await page.inputValue('#email'), 'sonam@example', 'what was typed is kept to correct');
    await checkPageStep(t, page, 'contact-details-error');
    await page.goto('/account/contact');
    assert.notEqual(await page.inputValue('#email'), 'sonam@example', 'nothing was saved');

    // Good details, and Dzongkha for the messages.
    await page.fill('#email', 'sonam.choden@example.com');
    await page.fill('#mobile', '+975 17 00 00 01');
    await page.check('#language-dz');
    res = await navigate(page, () => page.click('main form button[type=submit]'));
    assert.equal(res.status(), 200);
    assert.equal(pathOf(page), '/account/contact?saved=1', 'a valid change redirects');
    assert.equal(await page.locator('.govuk-notification-banner--success').count(), 1, 'a success banner');
    assert.equal(await page.inputValue('#mobile'), '+97517000001', 'the number is kept as +975 and eight digits');
    assert.ok(await page.isChecked('#language-dz'), 'Dzongkha is chosen');
    await checkPageStep(t, page, 'contact-details-saved');
  } finally {
    await page.context().close();
  }
});

test('the inbox shows a password reset request without its link', async (t) => {
  // Someone asks for the citizen's password to be reset.
  const asker = await dzong.newPage();
  try {
    await asker.goto('/forgotten-password');
    await asker.fill('#username', DEMO.citizen.username);
    const res = await navigate(asker, () => asker.click('main form button[type=submit]'));
    assert.equal(res.status(), 200);
  } finally {
    await asker.context().close();
  }

  const page = await dzong.newPage();
  try {
    await signIn(page, DEMO.citizen);
    await page.goto('/account');
    const res = await navigate(page, () => page.click('main a[href="/my/notifications"]'));
    assert.equal(res.status(), 200, 'GET /my/notifications from the account page');
    const items = page.locator('#notifications li');
    assert.ok((await items.count()) >= 1, 'the inbox lists the notice');
    assert.equal(await items.first().locator('h2').textContent(), 'Reset your Dzong password');
    assert.equal(await page.locator('main a[href*="reset-password"]').count(), 0, 'no reset link in the inbox');
    assert.ok(!(await page.textContent('main')).includes('token='), 'no reset token in the inbox');
    await checkPageStep(t, page, 'notifications');

    await page.goto('/language?lang=dz&return=/my/notifications');
    assert.equal(await page.getAttribute('html', 'lang'), 'dz');
    assert.equal(await items.first().locator('h2').textContent(), 'ཁྱོད་ཀྱི་རྫོང་གི་གསང་ཚིག་ སླར་སྒྲིག་འབད།',
      'the notice in Dzongkha on the Dzongkha page');
    await page.goto('/language?lang=en&return=/my/notifications');
  } finally {
    await page.context().close();
  }
});

test('an officer sees the notices that could not be delivered', async (t) => {
  const officer = await newOfficial(dzong, { prefix: 'notify.officer', organisation: 'DCRC', role: 'officer', name: 'Dawa Pelden' });
  const page = await dzong.newPage();
  try {
    await signInOfficial(page, officer);
    const res = await page.goto('/notifications/failed');
    assert.equal(res.status(), 200, 'GET /notifications/failed');
    assert.equal(await page.textContent('h1'), 'Notices that could not be delivered');
    await checkPageStep(t, page, 'notifications-failed');
    // An officer's inbox too.
    await page.goto('/my/notifications');
    await checkPageStep(t, page, 'notifications-officer');
  } finally {
    await page.context().close();
  }
});

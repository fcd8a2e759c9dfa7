// The demo citizen applies for a business licence and pays its fee through
// the simulated payment gateway: what is owed, the gateway's page, the
// outcome on coming back, and the receipt link, in English and Dzongkha.
// Every page visited is checked with axe in both languages. A declined
// payment leaves the fee owed and lets them try again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, signIn, useDzong } from './harness.mjs';

const dzong = useDzong();

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
  + '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

async function fillIfAsked(page, selector, value) {
  const input = `input${selector}, textarea${selector}`;
  if (await page.locator(input).count()) await page.fill(input, value);
}

const PAGES = {
  about_you: async (p) => { await fillIfAsked(p, '#given_name', DEMO.citizen.name); },
  business: async (p) => {
    await p.fill('#business_name', 'Choden Tea House');
    await p.check('#activity-retail');
    await p.fill('#expected_capital', '250000');
  },
  premises: async (p) => {
    await p.selectOption('#premises_address-dzongkhag', 'Thimphu');
    await p.selectOption('#premises_address-gewog', 'Chang');
    await p.fill('#premises_address-village', 'Motithang');
    await p.setInputFiles('#premises_lease', { name: 'lease.pdf', mimeType: 'application/pdf', buffer: PDF });
  },
};

/** Applies for a retail business licence (Nu. 5,100) and returns its reference. */
async function applyForLicence(page) {
  await page.goto('/services/business-licence/apply');
  if (await page.locator('#consent').count()) await page.check('#consent');
  await navigate(page, () => page.click('main form button[type=submit]'));
  for (let steps = 0; steps < 6; steps += 1) {
    const m = pathOf(page).match(/^\/my\/drafts\/\d+\/pages\/([a-z_]+)$/);
    if (!m) break;
    await PAGES[m[1]](page);
    await navigate(page, () => page.click('main form button[value=continue]'));
  }
  assert.match(pathOf(page), /^\/my\/drafts\/\d+\/check$/);
  await navigate(page, () => page.click('main form button[type=submit]'));
  return (await page.textContent('#reference')).trim();
}

for (const lang of ['en', 'dz']) {
  test(`a citizen pays a business licence's fee through the gateway (${lang})`, async (t) => {
    const page = await dzong.newPage();
    try {
      await page.context().addCookies([{ name: 'dzong_lang', value: lang, url: dzong.baseURL }]);
      await signIn(page, DEMO.citizen);
      const reference = await applyForLicence(page);

      // What is owed.
      let res = await page.goto(`/my/applications/${reference}/pay`);
      assert.equal(res.status(), 200);
      assert.equal((await page.textContent('#fee')).trim(), 'Nu. 5,100.00');
      assert.match(await page.textContent('#pay'), /Nu\. 5,100\.00/);
      await checkPageStep(t, page, `pay-owed-${lang}`);

      // First attempt: declined at the gateway; the fee is still owed.
      res = await navigate(page, () => page.click('#pay'));
      assert.match(pathOf(page), /^\/payment-gateway\/sim\/[0-9a-f]+$/);
      assert.equal((await page.textContent('#amount')).trim(), 'Nu. 5,100.00');
      assert.match(await page.textContent('#merchant'), /Ministry/);
      await checkPageStep(t, page, `pay-gateway-${lang}`);
      res = await navigate(page, () => page.click('#choice-decline'));
      assert.equal(res.status(), 200);
      assert.match(pathOf(page), /^\/my\/payments\/PAY-MOICE-\d{4}-\d{6}$/);
      assert.equal(await page.getAttribute('#outcome', 'data-status'), 'failed');
      assert.equal(await page.locator('#receipt').count(), 0, 'no receipt for a declined payment');
      await checkPageStep(t, page, `pay-declined-${lang}`);

      // Second attempt: paid.
      await navigate(page, () => page.click('#back-to-application'));
      await checkPageStep(t, page, `pay-owed-again-${lang}`);
      await navigate(page, () => page.click('#pay'));
      res = await navigate(page, () => page.click('#choice-pay'));
      assert.equal(res.status(), 200);
      assert.equal(await page.getAttribute('#outcome', 'data-status'), 'succeeded');
      const receipt = await page.getAttribute('#receipt', 'href');
      assert.match(receipt, /^\/my\/payments\/PAY-MOICE-\d{4}-\d{6}\/receipt\.pdf$/);
      await checkPageStep(t, page, `pay-succeeded-${lang}`);

      const pdf = await page.request.get(receipt);
      assert.equal(pdf.status(), 200);
      assert.equal(pdf.headers()['content-type'], 'application/pdf');
      assert.ok((await pdf.body()).subarray(0, 5).toString() === '%PDF-');

      // The application's page now says it is paid, with the receipt listed.
      res = await page.goto(`/my/applications/${reference}/pay`);
      assert.equal(await page.locator('#settled').count(), 1);
      assert.equal(await page.locator('#pay').count(), 0);
      assert.ok(await page.locator(`#payments a[href="${receipt}"]`).count() === 1);
      await checkPageStep(t, page, `pay-settled-${lang}`);
    } finally {
      await page.context().close();
    }
  });
}

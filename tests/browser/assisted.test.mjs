// Assisted digital: a community-centre operator applies for the demo
// citizen, who is not online. They find her by CID, choose the security
// clearance, record her consent on paper with a scan, fill the form with
// the form runner's pages, send it, and find it among the applications
// they sent; a consent by SMS code shows its code page, and a wrong code
// is refused. In English and Dzongkha; axe on every page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAxeStep, checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, useDzong } from './harness.mjs';
import { newOfficial, signInOfficial, tableRows } from './officials.mjs';

const dzong = useDzong();

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
  + '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

async function errorSummary(page) {
  return page.$$eval('.govuk-error-summary a', (as) => as.map((a) => a.textContent.trim()).join('; '));
}

for (const lang of ['en', 'dz']) {
  test(`an operator applies for a citizen at a community centre (${lang})`, async (t) => {
    const page = await dzong.newPage();
    try {
      const operator = await newOfficial(dzong, {
        prefix: `centre.${lang}`, organisation: 'DZ-THIMPHU', role: 'community_centre_operator', name: 'Deki Choden',
      });
      await signInOfficial(page, operator);
      await page.context().addCookies([{ name: 'dzong_lang', value: lang, url: dzong.baseURL }]);

      let res = await page.goto('/assist');
      assert.equal(res.status(), 200);
      assert.ok(await page.locator('header nav a[href="/assist"]').count() > 0, 'the header leads to the operator\'s pages');
      await checkPageStep(t, page, `assist-home-${lang}`);

      // A CID of the wrong shape is refused, naming the field.
      await page.fill('#cid', '1141001');
      res = await navigate(page, () => page.click('#find'));
      assert.equal(res.status(), 422);
      assert.equal(await page.locator('.govuk-error-summary a[href="#cid"]').count(), 1);
      await checkAxeStep(t, page, `assist-home-error-${lang}`);

      await page.fill('#cid', DEMO.citizen.username);
      res = await navigate(page, () => page.click('#find'));
      assert.equal(res.status(), 200);
      assert.equal(pathOf(page), `/assist/citizens/${DEMO.citizen.username}`);
      assert.equal((await page.textContent('#citizen-name')).trim(), DEMO.citizen.name);
      await checkPageStep(t, page, `assist-citizen-${lang}`);

      res = await navigate(page, () => page.click('main a[href$="/services/security-clearance"]'));
      assert.equal(res.status(), 200);
      await checkPageStep(t, page, `assist-consent-${lang}`);

      // Consent by SMS: the code page, and a wrong code refused.
      await page.check('#method-sms');
      await page.fill('#mobile', '17123456');
      res = await navigate(page, () => page.click('#record-consent'));
      assert.equal(res.status(), 200, await errorSummary(page));
      assert.match(pathOf(page), /^\/assist\/codes\/\d+$/);
      await checkPageStep(t, page, `assist-code-${lang}`);
      await page.fill('#code', '000000');
      res = await navigate(page, () => page.click('#check-code'));
      // One in a million: the code drawn may be 000000 itself.
      if (res.status() === 422) {
        assert.equal(await page.locator('.govuk-error-summary a[href="#code"]').count(), 1);
        await checkAxeStep(t, page, `assist-code-error-${lang}`);
      }

      // Consent on paper, with a scan.
      await page.goto(`/assist/citizens/${DEMO.citizen.username}/services/security-clearance`);
      await page.check('#method');
      await page.setInputFiles('#scan', { name: 'consent.pdf', mimeType: 'application/pdf', buffer: PDF });
      res = await navigate(page, () => page.click('#record-consent'));
      assert.equal(res.status(), 200, await errorSummary(page));
      assert.match(pathOf(page), /^\/assist\/drafts\/\d+\/pages\/your_details$/);
      await checkPageStep(t, page, `assist-your-details-${lang}`);
      res = await navigate(page, () => page.click('main form button[value=continue]'));
      assert.equal(res.status(), 200, await errorSummary(page));
      assert.match(pathOf(page), /^\/assist\/drafts\/\d+\/pages\/purpose$/);
      await checkPageStep(t, page, `assist-purpose-${lang}`);
      await page.check('#clearance_type');
      res = await navigate(page, () => page.click('main form button[value=continue]'));
      assert.equal(res.status(), 200, await errorSummary(page));
      assert.match(pathOf(page), /^\/assist\/drafts\/\d+\/check$/);
      await checkPageStep(t, page, `assist-check-${lang}`);
      res = await navigate(page, () => page.click('main form button[type=submit]'));
      assert.equal(res.status(), 200);
      assert.match(pathOf(page), /^\/assist\/drafts\/\d+\/submitted$/);
      const reference = (await page.textContent('#reference')).trim();
      assert.match(reference, /^RBP-\d{4}-\d{6}$/);
      await checkPageStep(t, page, `assist-sent-${lang}`);

      res = await page.goto('/assist/applications');
      assert.equal(res.status(), 200);
      const rows = await tableRows(page, '#applications');
      assert.equal(rows.length, 1, 'only the application this operator sent');
      assert.ok(Object.values(rows[0]).includes(reference));
      assert.ok(Object.values(rows[0]).includes(DEMO.citizen.username));
      await checkPageStep(t, page, `assist-applications-${lang}`);
    } finally {
      await page.context().close();
    }
  });
}

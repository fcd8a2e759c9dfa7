// The certificate of a security clearance, from the people's side: the
// citizen finds it under My documents and downloads it; anyone checks it on
// the public verification page without signing in; the RBP officer revokes
// it (a revocation without a reason is refused, naming the field) and the
// public page says so at once. Every page checked with axe in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAxeStep, checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, signIn, signOut, useDzong } from './harness.mjs';
import { applyForClearance } from './journeys.mjs';
import { newOfficial, signInOfficial } from './officials.mjs';

const dzong = useDzong();

for (const lang of ['en', 'dz']) {
  test(`a certificate is downloaded, checked by anyone and revoked (${lang})`, async (t) => {
    const officer = await newOfficial(dzong, { prefix: `rbp-cert-${lang}`, organisation: 'RBP', role: 'officer', name: 'Kinley Wangchuk' });
    const citizen = await dzong.newPage();
    const police = await dzong.newPage();
    const anyone = await dzong.newPage();
    try {
      for (const page of [citizen, police, anyone]) {
        await page.context().addCookies([{ name: 'dzong_lang', value: lang, url: dzong.baseURL }]);
      }
      await signIn(citizen, DEMO.citizen);
      const reference = await applyForClearance(citizen);
      await signInOfficial(police, officer);
      await police.goto(`/work/${reference}`);
      await navigate(police, () => police.click('#do-approve'));

      // My documents: the certificate, its page, its PDF and its credential.
      await citizen.goto('/');
      await navigate(citizen, () => citizen.click('header a[href="/my/documents"]'));
      assert.equal(pathOf(citizen), '/my/documents');
      const link = citizen.locator('#documents a[href^="/my/documents/RBP-SECURITY-CLEARANCE-"]').first();
      const id = (await link.textContent()).trim();
      await checkPageStep(t, citizen, `my-documents-${lang}`);
      await navigate(citizen, () => link.click());
      assert.equal(pathOf(citizen), `/my/documents/${id}`);
      await checkPageStep(t, citizen, `my-document-${lang}`);
      const pdf = await citizen.request.get(`/my/documents/${id}/pdf`);
      assert.equal(pdf.status(), 200);
      assert.equal(pdf.headers()['content-type'], 'application/pdf');
      assert.ok((await pdf.body()).subarray(0, 5).toString() === '%PDF-', 'a PDF');
      const vc = await citizen.request.get(`/my/documents/${id}/credential`);
      assert.equal(vc.status(), 200);
      assert.equal((await vc.json()).proof.cryptosuite, 'eddsa-jcs-2022');

      // Anyone, not signed in: an empty check is refused, the number checks valid.
      await anyone.goto('/');
      await navigate(anyone, () => anyone.click('header a[href="/verify"]'));
      assert.equal(pathOf(anyone), '/verify');
      await checkPageStep(t, anyone, `verify-${lang}`);
      let res = await navigate(anyone, () => anyone.click('main form button[type=submit]'));
      assert.equal(res.status(), 422);
      assert.equal(await anyone.locator('.govuk-error-summary a[href="#q"]').count(), 1, 'the field is named');
      await checkAxeStep(t, anyone, `verify-empty-${lang}`);
      await anyone.fill('#q', id);
      await navigate(anyone, () => anyone.click('main form button[type=submit]'));
      assert.equal(pathOf(anyone), `/verify/${id}`);
      assert.equal(await anyone.getAttribute('#verdict', 'data-verdict'), 'valid');
      await checkPageStep(t, anyone, `verify-valid-${lang}`);
      await anyone.goto('/verify/RBP-SECURITY-CLEARANCE-0000000000');
      assert.equal(await anyone.getAttribute('#verdict', 'data-verdict'), 'not_found');
      await checkPageStep(t, anyone, `verify-not-found-${lang}`);

      // The officer revokes it: a reason is needed.
      await police.goto('/');
      await navigate(police, () => police.click('header a[href="/work/certificates"]'));
      assert.ok(await police.locator(`#certificates a[href="/work/certificates/${id}"]`).count() === 1, 'listed');
      await checkPageStep(t, police, `work-certificates-${lang}`);
      await navigate(police, () => police.click(`#certificates a[href="/work/certificates/${id}"]`));
      await checkPageStep(t, police, `work-certificate-${lang}`);
      res = await navigate(police, () => police.click('main form button[type=submit]'));
      assert.equal(res.status(), 422);
      assert.equal(await police.locator('.govuk-error-summary a[href="#reason"]').count(), 1, 'the reason is named');
      await checkAxeStep(t, police, `work-certificate-no-reason-${lang}`);
      await police.fill('#reason', 'Issued on a record the police have since corrected');
      await navigate(police, () => police.click('main form button[type=submit]'));
      assert.equal(pathOf(police), `/work/certificates/${id}`);
      assert.match(await police.textContent('#reason'), /since corrected/);
      await checkPageStep(t, police, `work-certificate-revoked-${lang}`);

      // The public page says so at once.
      await anyone.goto(`/verify/${id}`);
      assert.equal(await anyone.getAttribute('#verdict', 'data-verdict'), 'revoked');
      await checkPageStep(t, anyone, `verify-revoked-${lang}`);
      await signOut(citizen);
    } finally {
      await citizen.context().close();
      await police.context().close();
      await anyone.context().close();
    }
  });
}

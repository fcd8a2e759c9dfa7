// The demo citizen applies for security clearance and finds it under My
// applications; an officer of the RBP, which owns the service, finds it in
// the queue, opens it (the applicant's population record as the agreement
// allows), and approves it from the queue with a bulk action; the citizen
// sees the decision. In English and in Dzongkha, every page checked with
// axe in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAxeStep, checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, signIn, signOut, useDzong } from './harness.mjs';
import { applyForClearance } from './journeys.mjs';
import { newOfficial, signInOfficial } from './officials.mjs';

const dzong = useDzong();

for (const lang of ['en', 'dz']) {
  test(`an officer approves a security clearance from the queue (${lang})`, async (t) => {
    const officer = await newOfficial(dzong, { prefix: `rbp-${lang}`, organisation: 'RBP', role: 'officer', name: 'Sonam Tobgay' });
    const citizen = await dzong.newPage();
    const police = await dzong.newPage();
    try {
      for (const page of [citizen, police]) {
        await page.context().addCookies([{ name: 'dzong_lang', value: lang, url: dzong.baseURL }]);
      }
      // The citizen applies and follows the application.
      await signIn(citizen, DEMO.citizen);
      const reference = await applyForClearance(citizen);
      await navigate(citizen, () => citizen.click('#track'));
      assert.equal(pathOf(citizen), `/my/applications/${reference}`);
      await navigate(citizen, () => citizen.click('header a[href="/my/applications"]'));
      assert.equal(pathOf(citizen), '/my/applications');
      assert.ok(await citizen.locator(`#applications a[href="/my/applications/${reference}"]`).count() === 1,
        'the application is listed');
      await checkPageStep(t, citizen, `my-applications-${lang}`);
      await navigate(citizen, () => citizen.click(`#applications a[href="/my/applications/${reference}"]`));
      assert.equal((await citizen.textContent('#reference')).trim(), reference);
      assert.ok(await citizen.locator('#do-withdraw').count() === 1, 'the applicant may withdraw');
      await checkPageStep(t, citizen, `my-application-${lang}`);
      const before = (await citizen.textContent('#state')).trim();

      // The RBP officer finds it in the queue and opens it.
      await signInOfficial(police, officer);
      await navigate(police, () => police.click('header a[href="/work"]'));
      assert.equal(pathOf(police), '/work');
      assert.ok(await police.locator(`#picks a[href="/work/${reference}"]`).count() === 1, 'the application is queued');
      await checkPageStep(t, police, `work-queue-${lang}`);
      await police.selectOption('#filter-sla', 'on_time');
      await navigate(police, () => police.click('#apply-filters'));
      assert.match(pathOf(police), /sla=on_time/);
      assert.ok(await police.locator(`#picks a[href="/work/${reference}"]`).count() === 1, 'on time');
      await navigate(police, () => police.click(`#picks a[href="/work/${reference}"]`));
      assert.ok(await police.locator('#record').count() === 1, 'the applicant\'s record as the agreement allows');
      await checkPageStep(t, police, `work-application-${lang}`);
      // A refusal needs a comment: the field is named.
      const refuse = await navigate(police, () => police.click('#do-reject'));
      assert.equal(refuse.status(), 422);
      assert.ok(await police.locator('.govuk-error-summary a[href="#comment-reject"]').count() === 1);
      // The page answers a POST: checked in this run's language (the other run checks the other).
      await checkAxeStep(t, police, `work-application-problem-${lang}`);

      // Approved from the queue.
      await police.goto('/work');
      await police.check(`#pick-${reference}`);
      await police.selectOption('#bulk_transition', 'security-clearance:approve');
      const res = await navigate(police, () => police.click('#bulk-apply'));
      assert.equal(res.status(), 200);
      assert.ok(await police.locator(`#bulk-results a[href="/work/${reference}"]`).count() === 1, 'the outcome is reported');
      await checkPageStep(t, police, `work-bulk-results-${lang}`);
      await signOut(police);

      // The citizen sees the decision.
      await citizen.goto(`/my/applications/${reference}`);
      const after = (await citizen.textContent('#state')).trim();
      assert.notEqual(after, before, 'the state changed');
      assert.ok(await citizen.locator('#do-withdraw').count() === 0, 'a decided application can no longer be withdrawn');
      await checkPageStep(t, citizen, `my-application-decided-${lang}`);
    } finally {
      await citizen.context().close();
      await police.context().close();
    }
  });
}

// Journeys more than one browser test takes: the demo citizen applying for
// a security clearance, all of it from the population register.
import assert from 'node:assert/strict';
import { DEMO, navigate, pathOf } from './harness.mjs';

export async function fillIfAsked(page, selector, value) {
  const input = `input${selector}, textarea${selector}`;
  if (await page.locator(input).count()) await page.fill(input, value);
}

export async function errorSummary(page) {
  return page.$$eval('.govuk-error-summary a', (as) => as.map((a) => a.textContent.trim()).join('; '));
}

/** The citizen applies for security clearance; returns the reference. */
export async function applyForClearance(page) {
  await page.goto('/services/security-clearance/apply');
  if (await page.locator('#consent').count()) await page.check('#consent');
  await navigate(page, () => page.click('main form button[type=submit]'));
  for (let steps = 0; steps < 4; steps += 1) {
    const m = pathOf(page).match(/^\/my\/drafts\/\d+\/pages\/([a-z_]+)$/);
    if (!m) break;
    if (m[1] === 'your_details') {
      await fillIfAsked(page, '#given_name', DEMO.citizen.name);
      if (await page.locator('#date_of_birth-day').count()) {
        await page.fill('#date_of_birth-day', '12');
        await page.fill('#date_of_birth-month', '3');
        await page.fill('#date_of_birth-year', '1994');
      }
      await fillIfAsked(page, '#dzongkhag', 'Thimphu');
      await fillIfAsked(page, '#gewog', 'Chang');
      await fillIfAsked(page, '#village', 'Chang');
      await fillIfAsked(page, '#household_number', '14900001');
    } else {
      await page.check('#clearance_type');
    }
    const res = await navigate(page, () => page.click('main form button[value=continue]'));
    assert.equal(res.status(), 200, `${m[1]}: ${await errorSummary(page)}`);
  }
  assert.match(pathOf(page), /^\/my\/drafts\/\d+\/check$/);
  await navigate(page, () => page.click('main form button[type=submit]'));
  assert.match(pathOf(page), /^\/my\/drafts\/\d+\/submitted$/);
  return (await page.textContent('#reference')).trim();
}

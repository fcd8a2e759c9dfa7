// A Royal Bhutan Police service designer builds a security-clearance-like
// service through the designer's pages only: the details, two pages of
// questions (pre-filled from the population register, a choice, a question
// shown on a condition), the workflow and the certificate. The once-only
// lint blocks publication until the one question a register also holds is
// justified; the service is published and previewed; the pages are read in
// Dzongkha too; and the ministry's reviewer accepts the justification.
// Every page is checked with axe in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAxeStep, checkPageStep } from './a11y.mjs';
import { DEMO, htmlLang, navigate, pathOf, useDzong } from './harness.mjs';
import { RUN, newOfficial, signInOfficial } from './officials.mjs';

const dzong = useDzong();

async function save(page) {
  return navigate(page, () => page.click('#save'));
}

/** Saves a form that must be accepted, and checks where it leads. */
async function saveTo(page, path) {
  const res = await save(page);
  assert.equal(pathOf(page).replace(/#.*$/, ''), path, `saved (status ${res.status()}: ${await problems(page)})`);
}

/** The error summary's messages, for the message of a failed assertion. */
async function problems(page) {
  return page.$$eval('.govuk-error-summary li', (items) => items.map((i) => i.textContent.trim()).join('; '));
}

async function addField(page, base, pageIndex, { id, type, en, dz, prefill, required, options, showWhen }) {
  await page.goto(`${base}/pages/${pageIndex}`);
  await navigate(page, () => page.click('#fields-add'));
  await page.fill('#id', id);
  await page.selectOption('#type', type);
  await page.fill('#label_en', en);
  await page.fill('#label_dz', dz);
  if (required) await page.check('#required');
  if (prefill) await page.selectOption('#prefill', prefill);
  if (options) await page.fill('#options', options);
  if (showWhen) {
    await page.selectOption('#show_when_field', showWhen.field);
    await page.fill('#show_when_values', showWhen.values);
  }
  const res = await save(page);
  assert.equal(pathOf(page), `${base}/pages/${pageIndex}`, `the question ${id} is added (status ${res.status()}: ${await problems(page)})`);
}

test('a designer builds, checks, publishes and previews a service; the ministry reviews it', async (t) => {
  const designer = await newOfficial(dzong, { prefix: 'rbp.designer', organisation: 'RBP', role: 'service_designer', name: 'Dorji Wangdi' });
  const code = `clearance-${RUN}`.toLowerCase();
  const base = `/design/${code}`;
  const page = await dzong.newPage();
  const reviewer = await dzong.newPage();
  try {
    await signInOfficial(page, designer);
    let res = await page.goto('/design');
    assert.equal(res.status(), 200, 'GET /design');
    await checkPageStep(t, page, 'design-services');

    await navigate(page, () => page.click('#new-service'));
    assert.equal(pathOf(page), '/design/new');
    await checkPageStep(t, page, 'design-new');

    // Nothing filled in, a fee with three decimals: 422, every problem linked to its field.
    await page.fill('#fee', '10.005');
    await page.fill('#sla', '');
    res = await save(page);
    assert.equal(res.status(), 422, 'an empty service is refused');
    const summary = await page.$$eval('.govuk-error-summary a', (as) => as.map((a) => a.getAttribute('href')));
    for (const href of ['#code', '#title_en', '#summary_en', '#eligibility_en', '#category', '#life_events', '#fee', '#sla']) {
      assert.ok(summary.includes(href), `the summary links ${href}: ${JSON.stringify(summary)}`);
    }
    await checkPageStep(t, page, 'design-new-invalid');

    await page.fill('#code', code);
    await page.fill('#title_en', `Security clearance ${RUN}`);
    await page.fill('#title_dz', 'ཉེན་སྲུང་ཆོག་ཐམ་ལག་ཁྱེར།');
    await page.fill('#summary_en', 'A certificate that you have no criminal record, for work or travel.');
    await page.fill('#summary_dz', 'ལཱ་ཡང་ན་འགྲུལ་བཞུད་ཀྱི་དོན་ལུ་ ཉེས་འགེལ་མེད་པའི་ལག་ཁྱེར།');
    await page.fill('#eligibility_en', 'Any citizen of Bhutan aged 18 or over.');
    await page.fill('#eligibility_dz', 'ལོ་ ༡༨ ལང་མི་ འབྲུག་གི་མི་སེར་ག་ར།');
    await page.selectOption('#category', 'police-and-justice');
    await page.check('#life_events-employment');
    await page.check('#life_events-travel');
    await page.fill('#fee', '100');
    await page.fill('#sla', '3');
    res = await save(page);
    assert.equal(pathOf(page), base, `the draft is created (status ${res.status()}: ${await problems(page)})`);
    assert.equal((await page.textContent('#service-status')).trim(), 'Draft');
    await checkPageStep(t, page, 'design-overview');

    // The first page: about the applicant, every answer from the population register but one.
    await navigate(page, () => page.click(`#pages a[href="${base}/pages/0"]`));
    await checkPageStep(t, page, 'design-page');
    await page.fill('#id', 'applicant');
    await page.fill('#title_en', 'About you');
    await page.fill('#title_dz', 'ཁྱོད་ཀྱི་སྐོར།');
    await saveTo(page, base);
    await addField(page, base, 0, { id: 'given_name', type: 'text', en: 'Your name', dz: 'ཁྱོད་ཀྱི་མིང་།', prefill: 'population.given_name' });
    await addField(page, base, 0, { id: 'date_of_birth', type: 'date', en: 'Date of birth', dz: 'སྐྱེས་ཚེས།', prefill: 'population.date_of_birth' });
    await addField(page, base, 0, { id: 'dzongkhag', type: 'text', en: 'Dzongkhag where you live now', dz: 'ད་ལྟ་སྡོད་སའི་རྫོང་ཁག', required: true });
    // The starting question goes.
    await navigate(page, () => page.click(`#fields form[action="${base}/pages/0/fields/0/arrange"] button[value=remove]`));
    assert.equal(pathOf(page), `${base}/pages/0`);
    assert.equal(await page.locator('#fields tbody tr').count(), 3, 'three questions on the first page');
    await navigate(page, () => page.click(`#fields a[href="${base}/pages/0/fields/0"]`));
    assert.equal(await page.inputValue('#prefill'), 'population.given_name');
    await checkPageStep(t, page, 'design-field');

    // A second page: why it is needed, and the employer only for employment.
    await page.goto(base);
    await navigate(page, () => page.click('#pages-add'));
    await checkPageStep(t, page, 'design-page-new');
    await page.fill('#id', 'purpose_page');
    await page.fill('#title_en', 'Why you need it');
    await page.fill('#title_dz', 'ག་ཅི་སྦེ་དགོཔ་ཨིན་ན།');
    await page.fill('#first_id', 'purpose');
    await page.selectOption('#first_type', 'choice');
    await page.fill('#first_label_en', 'What is the clearance for?');
    await page.fill('#first_label_dz', 'ཆོག་ཐམ་འདི་ག་ཅི་གི་དོན་ལུ་སྨོ།');
    await page.fill('#first_options', 'employment | Employment | ལཱ་གཡོག\ntravel | Travel abroad | ཕྱི་རྒྱལ་འགྲུལ་བཞུད\n');
    await save(page);
    assert.equal(pathOf(page), `${base}/pages/1`, `a new page goes on to its questions: ${await problems(page)}`);
    await navigate(page, () => page.click(`#fields a[href="${base}/pages/1/fields/0"]`));
    await page.fill('#options', 'employment | Employment | ལཱ་གཡོག\ntravel | Travel abroad | ཕྱི་རྒྱལ་འགྲུལ་བཞུད\nstudy | Study | སློབ་སྦྱོང\n');
    await page.check('#required');
    await save(page);
    assert.equal(pathOf(page), `${base}/pages/1`);
    await addField(page, base, 1, {
      id: 'employer', type: 'text', en: 'Name of the employer', dz: 'ལཱ་གཡོག་བྱིན་མིའི་མིང་།', showWhen: { field: 'purpose', values: 'employment' },
    });

    // The certificate, valid for a year.
    await page.goto(base);
    await navigate(page, () => page.click('#edit-certificate'));
    await checkPageStep(t, page, 'design-certificate');
    await page.fill('#template', 'security-clearance');
    await page.fill('#title_en', 'Security clearance certificate');
    await page.fill('#title_dz', 'ཉེན་སྲུང་ཆོག་ཐམ་ལག་ཁྱེར།');
    await page.fill('#valid_days', '365');
    await page.fill('#field_0', 'given_name');
    await page.fill('#label_en_0', 'Name');
    await page.fill('#label_dz_0', 'མིང་།');
    await page.check('#public_0');
    await page.fill('#field_1', 'date_of_birth');
    await page.fill('#label_en_1', 'Date of birth');
    await page.fill('#label_dz_1', 'སྐྱེས་ཚེས།');
    res = await save(page);
    assert.equal(pathOf(page), base, `the certificate is saved (status ${res.status()}: ${await problems(page)})`);

    // The workflow: approval issues the certificate; the police grant it.
    await page.goto(base);
    const approved = await page.$$eval('#states tbody tr', (rows) => rows.findIndex((r) => r.textContent.includes('approved')));
    assert.ok(approved >= 0, 'the starting workflow has an approved state');
    await navigate(page, () => page.click(`#states a[href="${base}/states/${approved}"]`));
    await checkPageStep(t, page, 'design-state');
    await page.check('#issue_certificate');
    await saveTo(page, base);
    await navigate(page, () => page.click(`#transitions a[href="${base}/transitions/0"]`));
    await checkPageStep(t, page, 'design-transition');
    await page.fill('#label_en', 'Grant the clearance');
    await page.fill('#label_dz', 'ཆོག་ཐམ་སྤྲོད།');
    await page.fill('#organisation', 'RBP');
    await saveTo(page, base);

    // The lint names the dzongkhag question and the register's field, and blocks publication.
    const finding = page.locator('#findings tbody tr', { hasText: 'population.dzongkhag' });
    assert.equal(await finding.count(), 1, 'the once-only finding names population.dzongkhag');
    res = await navigate(page, () => page.click('#publish'));
    assert.equal(res.status(), 422, 'publication is blocked');
    assert.ok((await page.textContent('.govuk-error-summary')).includes('dzongkhag'), 'the summary names the question');
    // The refused publication's page has the address the form posted to: axe in each language in turn.
    await checkAxeStep(t, page, 'design-publish-blocked');
    await page.goto(`/language?lang=dz&return=${encodeURIComponent(base)}`);
    res = await navigate(page, () => page.click('#publish'));
    assert.equal(res.status(), 422, 'publication is blocked in Dzongkha too');
    assert.equal(await htmlLang(page), 'dz');
    await checkAxeStep(t, page, 'design-publish-blocked');
    await page.goto(`/language?lang=en&return=${encodeURIComponent(base)}`);

    // The only way past: a justification.
    await navigate(page, () => page.locator('#findings tbody tr', { hasText: 'population.dzongkhag' }).locator('a').click());
    assert.equal(await page.inputValue('#field'), 'dzongkhag');
    assert.equal(await page.inputValue('#registry_field'), 'population.dzongkhag');
    await checkPageStep(t, page, 'design-justification');
    await page.fill('#reason', 'The clearance names where the applicant lives now, which the census record may not show.');
    await saveTo(page, base);
    res = await navigate(page, () => page.click('#publish'));
    assert.equal(pathOf(page), `${base}?published=1`, `published (status ${res.status()})`);
    assert.equal((await page.textContent('#service-status')).trim(), 'Published');
    await checkPageStep(t, page, 'design-published');

    // The preview, as an applicant reads it.
    await navigate(page, () => page.click('#preview'));
    const preview = await page.textContent('main');
    assert.ok(preview.includes('Population register') || preview.includes('population'), 'the preview names the register');
    assert.ok(preview.includes('Pre-filled'), 'pre-filled questions are marked');
    assert.ok(preview.includes('Shown when'), 'the employer question shows its condition');
    assert.ok(preview.includes('Nu. 100'), 'the fee');
    await checkPageStep(t, page, 'design-preview');

    // The same pages in Dzongkha.
    await page.goto(`/language?lang=dz&return=${encodeURIComponent(base)}`);
    assert.equal(await htmlLang(page), 'dz');
    assert.equal(pathOf(page), base);
    assert.equal((await page.textContent('#service-status')).trim(), 'གསལ་བསྒྲགས་འབད་ཡོདཔ');
    await page.goto('/design');
    assert.ok((await page.textContent('h1')).includes('ཞབས་ཏོག'), 'the list in Dzongkha');
    await page.goto(`${base}/preview`);
    assert.ok((await page.textContent('main')).includes('ཁྱོད་ཀྱི་སྐོར།'), 'the preview shows the Dzongkha titles');
    await page.goto(`/language?lang=en&return=${encodeURIComponent('/design')}`);

    // The ministry's reviewer accepts the justification.
    await signInOfficial(reviewer, DEMO.platformAdmin2);
    res = await reviewer.goto('/review/justifications?review=pending');
    assert.equal(res.status(), 200);
    const card = reviewer.locator('.govuk-summary-card', { hasText: code });
    assert.equal(await card.count(), 1, 'the justification waits for review');
    const id = (await card.getAttribute('id')).replace('justification-', '');
    await checkPageStep(t, reviewer, 'review-justifications');
    await reviewer.check(`#decision-${id}`);
    await reviewer.fill(`#note-${id}`, 'Where people live now is not in the census; accepted.');
    await navigate(reviewer, () => reviewer.click(`#review-button-${id}`));
    assert.equal(pathOf(reviewer), '/review/justifications?review=pending');
    await reviewer.goto('/review/justifications?review=accepted');
    assert.equal((await reviewer.textContent(`#review-${id}`)).trim(), 'Accepted');
  } finally {
    await page.context().close();
    await reviewer.context().close();
  }
});

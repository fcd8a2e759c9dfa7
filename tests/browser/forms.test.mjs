// The demo citizen applies for each of the five seeded services as a person
// would: typing, choosing, uploading a small PDF, through to the check
// answers page and the confirmation with its reference, in English and in
// Dzongkha. Every page visited is checked with axe in both languages.
// Answers the registers hold are pre-filled where the service's owner may
// read them (with the citizen's consent), and typed where it may not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { DEMO, navigate, pathOf, signIn, useDzong } from './harness.mjs';

const dzong = useDzong();

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n'
  + '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
// A person of the seeded population (the first of Thimphu's households).
const OTHER_PERSON = '11420000001';

/** Types into a field when it is asked; a pre-filled answer is shown, not asked. */
async function fillIfAsked(page, selector, value) {
  const input = `input${selector}, textarea${selector}`;
  if (await page.locator(input).count()) await page.fill(input, value);
}

async function date(page, id, d) {
  await page.fill(`#${id}-day`, String(d.getDate()));
  await page.fill(`#${id}-month`, String(d.getMonth() + 1));
  await page.fill(`#${id}-year`, String(d.getFullYear()));
}

async function upload(page, id, name) {
  await page.setInputFiles(`#${id}`, { name, mimeType: 'application/pdf', buffer: PDF });
}

/** What a person enters on each page of each service (pre-filled answers are not inputs). */
const JOURNEYS = {
  'birth-registration': {
    consent: 'yes',
    pages: {
      about_you: async (p) => {
        await fillIfAsked(p, '#given_name', DEMO.citizen.name);
        if (await p.locator('#date_of_birth-day').count()) await date(p, 'date_of_birth', new Date(1994, 2, 12));
      },
      father: async (p) => { await p.fill('#father_cid', OTHER_PERSON); },
      father_name: async (p) => { await fillIfAsked(p, '#father_given_name', 'Dorji'); },
      child: async (p) => {
        await p.fill('#child_given_name', 'Karma Yangchen');
        await p.check('#child_sex-female');
        await date(p, 'child_date_of_birth', new Date(Date.now() - 20 * 86400_000));
        await p.check('#place_of_birth');
        await p.fill('#hospital_name', 'Jigme Dorji Wangchuck National Referral Hospital');
      },
      documents: async (p) => { await upload(p, 'birth_notification', 'birth-notification.pdf'); },
    },
  },
  'security-clearance': {
    consent: 'yes',
    pages: {
      your_details: async (p) => {
        await fillIfAsked(p, '#given_name', DEMO.citizen.name);
        if (await p.locator('#date_of_birth-day').count()) await date(p, 'date_of_birth', new Date(1994, 2, 12));
        await fillIfAsked(p, '#dzongkhag', 'Thimphu');
        await fillIfAsked(p, '#gewog', 'Chang');
        await fillIfAsked(p, '#village', 'Chiwog 2, Chang');
        await fillIfAsked(p, '#household_number', '14900001');
      },
      purpose: async (p) => { await p.check('#clearance_type'); },
    },
  },
  'census-transfer': {
    consent: 'yes',
    pages: {
      current_household: async (p) => {
        await fillIfAsked(p, '#household_number', '14900001');
        await fillIfAsked(p, '#dzongkhag', 'Thimphu');
        await fillIfAsked(p, '#gewog', 'Chang');
        await fillIfAsked(p, '#village', 'Chiwog 2, Chang');
      },
      new_household: async (p) => {
        await p.fill('#new_household_number', '14000777');
        await p.fill('#receiving_head_cid', OTHER_PERSON);
      },
      reason: async (p) => { await p.check('#reason'); },
    },
  },
  'business-licence': {
    consent: 'yes',
    pages: {
      about_you: async (p) => { await fillIfAsked(p, '#given_name', DEMO.citizen.name); },
      business: async (p) => {
        await p.fill('#business_name', 'Choden Tea House');
        await p.check('#activity');
        await p.fill('#expected_capital', '250000');
      },
      premises: async (p) => {
        await p.selectOption('#premises_address-dzongkhag', 'Thimphu');
        await p.selectOption('#premises_address-gewog', 'Chang');
        await p.fill('#premises_address-village', 'Motithang');
        await upload(p, 'premises_lease', 'lease.pdf');
      },
    },
  },
  'land-transfer': {
    consent: 'yes',
    pages: {
      plot: async (p) => { await p.fill('#plot_id', 'CHA-000001'); },
      plot_details: async (p) => {
        await fillIfAsked(p, '#thram_number', 'T14900001');
        await fillIfAsked(p, '#plot_dzongkhag', 'Thimphu');
        await fillIfAsked(p, '#plot_gewog', 'Chang');
        await fillIfAsked(p, '#area_acres', '0.42');
      },
      transfer: async (p) => {
        await p.check('#transfer_type');
        await p.fill('#sale_price', '1500000');
        await upload(p, 'sale_deed', 'sale-deed.pdf');
      },
      new_owner: async (p) => { await p.fill('#buyer_cid', OTHER_PERSON); },
      new_owner_name: async (p) => { await fillIfAsked(p, '#buyer_given_name', 'Dorji'); },
    },
  },
};

async function errorSummary(page) {
  return page.$$eval('.govuk-error-summary a', (as) => as.map((a) => a.textContent.trim()).join('; '));
}

async function apply(t, page, code, journey, lang) {
  let res = await page.goto(`/services/${code}/apply`);
  assert.equal(res.status(), 200, `the start page of ${code}`);
  await checkPageStep(t, page, `${code}-start-${lang}`);
  const asksConsent = (await page.locator('input[name=consent]').count()) > 0;
  assert.equal(asksConsent, Boolean(journey.consent), `${code}: the consent question is asked when the owner may read the registers`);
  if (asksConsent) await page.check(journey.consent === 'yes' ? '#consent' : '#consent-no');
  res = await navigate(page, () => page.click('main form button[type=submit]'));
  assert.equal(res.status(), 200, `${code}: starting a draft`);
  const seen = [];
  for (let steps = 0; steps < 12; steps += 1) {
    const path = pathOf(page);
    const m = path.match(/^\/my\/drafts\/\d+\/pages\/([a-z_]+)$/);
    if (!m) break;
    const pageId = m[1];
    seen.push(pageId);
    await checkPageStep(t, page, `${code}-${pageId}-${lang}`);
    const fill = journey.pages[pageId];
    assert.ok(fill, `${code}: a filler for page ${pageId}`);
    await fill(page);
    res = await navigate(page, () => page.click('main form button[value=continue]'));
    assert.equal(res.status(), 200, `${code}/${pageId}: ${await errorSummary(page)}`);
    assert.notEqual(pathOf(page), path, `${code}/${pageId} goes on: ${await errorSummary(page)}`);
  }
  assert.deepEqual(seen, Object.keys(journey.pages), `${code}: the pages in order`);
  assert.match(pathOf(page), /^\/my\/drafts\/\d+\/check$/, `${code}: check answers comes last`);
  assert.ok(await page.locator('.govuk-summary-list').count() > 0);
  await checkPageStep(t, page, `${code}-check-${lang}`);
  res = await navigate(page, () => page.click('main form button[type=submit]'));
  assert.equal(res.status(), 200);
  assert.match(pathOf(page), /^\/my\/drafts\/\d+\/submitted$/);
  const reference = (await page.textContent('#reference')).trim();
  assert.match(reference, /^[A-Z][A-Z0-9-]*-\d{4}-\d{6}$/, `${code}: a reference`);
  await checkPageStep(t, page, `${code}-sent-${lang}`);
  return reference;
}

for (const lang of ['en', 'dz']) {
  test(`a citizen applies for each seeded service (${lang})`, async (t) => {
    const page = await dzong.newPage();
    try {
      await page.context().addCookies([{ name: 'dzong_lang', value: lang, url: dzong.baseURL }]);
      await signIn(page, DEMO.citizen);
      const references = [];
      for (const [code, journey] of Object.entries(JOURNEYS)) {
        references.push(await apply(t, page, code, journey, lang));
      }
      assert.equal(new Set(references).size, references.length, 'every application has its own reference');
      // Pre-filled answers are shown read-only with where they came from.
      await page.goto('/services/census-transfer/apply');
      await page.check('#consent');
      await navigate(page, () => page.click('main form button[type=submit]'));
      assert.equal(await page.locator('#household_number').evaluate((e) => e.tagName.toLowerCase()), 'dl');
      assert.ok(await page.locator('a[href^="/my/corrections/new?registry=population"]').count() > 0, 'a "This is wrong" link');
      // The draft is listed, to resume.
      const res = await page.goto('/my/drafts');
      assert.equal(res.status(), 200);
      assert.ok(await page.locator('main table a[href^="/my/drafts/"]').count() > 0);
      await checkPageStep(t, page, `my-drafts-${lang}`);
    } finally {
      await page.context().close();
    }
  });
}

// The citizen's catalogue as a visitor who has not signed in uses it: from
// the home page to the list of services, browsing by life event, filtering
// by agency, searching in English and in Dzongkha, a service's page, and on
// to its start link; every page checked with axe in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { navigate, pathOf, useDzong } from './harness.mjs';

const dzong = useDzong();

/** The codes of the services the page lists, in order. */
async function results(page) {
  return page.$$eval('#results a[href^="/services/"]', (links) => links.map((a) => a.getAttribute('href').slice('/services/'.length)));
}

/** Fills the search box, leaves the filters as they are, and sends the form. */
async function search(page, words) {
  await page.fill('#q', words);
  return navigate(page, () => page.click('#catalogue-search'));
}

test('a visitor browses, filters and searches the catalogue in English and opens a service', async (t) => {
  const page = await dzong.newPage();
  try {
    await page.goto('/');
    let res = await navigate(page, () => page.click('#home-services'));
    assert.equal(res.status(), 200, 'GET /services');
    assert.equal(pathOf(page), '/services');
    assert.equal(await page.textContent('main h1'), 'Find a government service');
    assert.equal((await results(page)).length, 5, 'every seeded service is listed');
    await checkPageStep(t, page, 'catalogue');

    // Browse by life event.
    res = await navigate(page, () => page.click('#browse-life-events a[href="/services?life_event=birth"]'));
    assert.equal(res.status(), 200);
    assert.deepEqual(await results(page), ['birth-registration']);
    assert.equal(await page.inputValue('#life_event'), 'birth', 'the filter shows what was chosen');
    await checkPageStep(t, page, 'catalogue-life-event');

    // Only the agencies with a service for a baby are offered with that filter on.
    assert.deepEqual(await page.$$eval('#agency option', (os) => os.map((o) => o.value)), ['', 'DCRC']);

    // Filter by agency with the form, as a keyboard or mouse user would.
    res = await navigate(page, () => page.click('#clear-filters'));
    await page.selectOption('#agency', 'RBP');
    res = await navigate(page, () => page.click('#catalogue-search'));
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).searchParams.get('agency'), 'RBP', 'the filter is a plain GET');
    assert.deepEqual(await results(page), ['security-clearance']);
    assert.match(await page.textContent('#result-count'), /^1 service$/);

    // Search in English, filters cleared.
    res = await navigate(page, () => page.click('#clear-filters'));
    assert.equal(pathOf(page), '/services');
    res = await search(page, 'trade licence');
    assert.deepEqual(await results(page), ['business-licence']);
    await checkPageStep(t, page, 'catalogue-search');

    // Nothing matches.
    res = await search(page, 'zzyzx');
    assert.equal(res.status(), 200);
    assert.ok(await page.isVisible('#no-results'), 'the page says no service matches');
    assert.match(await page.textContent('#no-results'), /No services match your search/);
    await checkPageStep(t, page, 'catalogue-no-results');

    // A service's page.
    res = await search(page, 'licence');
    res = await navigate(page, () => page.click('#results a[href="/services/business-licence"]'));
    assert.equal(res.status(), 200, 'GET /services/business-licence');
    assert.equal(await page.textContent('main h1'), 'Apply for a trade licence');
    const main = await page.textContent('main');
    assert.match(main, /Nu\. 5,100 if your answer to “Type of trade” is “Retail”/, 'the fee for retail, in Nu.');
    assert.match(main, /Nu\. 3,100 otherwise/);
    assert.match(main, /7 working days/);
    assert.match(main, /PDF, JPEG or PNG, up to 5 MB/);
    assert.match(await page.textContent('#service-agency'), /Ministry of Industry, Commerce and Employment/);
    await checkPageStep(t, page, 'service-page');

    // Start now: the form runner's address for this service.
    const start = page.locator('#start-now');
    assert.equal(await start.getAttribute('href'), '/services/business-licence/apply');
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.isNavigationRequest() && new URL(r.url()).pathname === '/services/business-licence/apply'),
      navigate(page, () => start.click()),
    ]);
    assert.equal(new URL(request.url()).pathname, '/services/business-licence/apply');
  } finally {
    await page.context().close();
  }
});

test('a visitor finds and reads services in Dzongkha', async (t) => {
  const page = await dzong.newPage();
  try {
    await page.goto('/language?lang=dz&return=/services');
    assert.equal(await page.getAttribute('html', 'lang'), 'dz');
    assert.equal(await page.textContent('main h1'), 'གཞུང་གི་ཞབས་ཏོག་འཚོལ།');

    // One syllable finds the services whose Dzongkha title has it.
    let res = await search(page, 'ཆོག');
    assert.equal(res.status(), 200);
    assert.deepEqual((await results(page)).sort(), ['business-licence', 'security-clearance']);
    await checkPageStep(t, page, 'catalogue-search-dzongkha');

    // Part of a syllable is not a syllable.
    await search(page, 'ཆོ');
    assert.ok(await page.isVisible('#no-results'));

    // Browse by life event in Dzongkha.
    res = await navigate(page, () => page.click('#clear-filters'));
    res = await navigate(page, () => page.click('#browse-life-events a[href="/services?life_event=land-and-property"]'));
    assert.deepEqual(await results(page), ['land-transfer']);
    await checkPageStep(t, page, 'catalogue-life-event-dzongkha');

    res = await navigate(page, () => page.click('#results a[href="/services/land-transfer"]'));
    assert.equal(res.status(), 200);
    assert.equal(await page.textContent('main h1'), 'ས་ཆ་ སྤོ་བཤུད།');
    assert.match(await page.textContent('#service-fee'), /དངུལ་ཀྲམ་ ༡༠༠/);
    assert.match(await page.textContent('#service-sla'), /ལཱ་གི་ཉིན་གྲངས་ ༡༠/);
    assert.equal(await page.textContent('#start-now'), 'ད་ལྟོ་འགོ་བཙུགས།');
    await checkPageStep(t, page, 'service-page-dzongkha');
  } finally {
    await page.context().close();
  }
});

test('a retired or unknown service has no page', async (t) => {
  const page = await dzong.newPage();
  try {
    const res = await page.goto('/services/no-such-service');
    assert.equal(res.status(), 404);
    assert.equal(await page.textContent('main h1'), 'Page not found');
    await checkPageStep(t, page, 'service-not-found');
  } finally {
    await page.context().close();
  }
});

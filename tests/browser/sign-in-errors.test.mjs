// The sign-in form's errors: a wrong password and a malformed Citizenship ID
// re-render the form with status 422, a GOV.UK error summary and a field
// error, in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAxeStep, checkPageStep, switchLanguage } from './a11y.mjs';
import { DEMO, pathOf, signIn, useDzong } from './harness.mjs';

const dzong = useDzong();

/** What a re-rendered sign-in form shows about its errors. */
async function errorState(page) {
  return page.evaluate(() => {
    const summary = document.querySelector('.govuk-error-summary');
    const links = summary ? [...summary.querySelectorAll('a')].map((a) => ({
      href: a.getAttribute('href'),
      text: a.textContent.trim(),
      targetExists: a.getAttribute('href')?.startsWith('#') && !!document.getElementById(a.getAttribute('href').slice(1)),
    })) : [];
    const field = (id) => {
      const input = document.getElementById(id);
      const error = document.getElementById(`${id}-error`);
      return {
        error: error ? error.textContent.replace(/\s+/g, ' ').trim() : null,
        // The message without its visually hidden "Error:" prefix.
        message: error ? [...error.childNodes].filter((n) => !n.classList?.contains('govuk-visually-hidden'))
          .map((n) => n.textContent).join('').replace(/\s+/g, ' ').trim() : null,
        describedBy: input?.getAttribute('aria-describedby') ?? null,
        inputHasErrorClass: input?.classList.contains('govuk-input--error') ?? false,
        groupHasErrorClass: input?.closest('.govuk-form-group')?.classList.contains('govuk-form-group--error') ?? false,
        value: input?.value ?? null,
      };
    };
    return {
      summary: !!summary,
      summaryTitle: summary?.querySelector('.govuk-error-summary__title')?.textContent.trim() ?? null,
      summaryHasAlert: !!summary?.querySelector('[role=alert]') || summary?.getAttribute('role') === 'alert',
      links,
      title: document.title,
      username: field('username'),
      password: field('password'),
    };
  });
}

const TIBETAN = /[\u0F00-\u0FFF]/;

/** Text shown on a Dzongkha page is in Dzongkha (Tibetan script); on an English page, it is not. */
function assertLanguage(text, lang, what) {
  if (lang === 'dz') assert.match(text ?? '', TIBETAN, `${what} is in Dzongkha on a Dzongkha page: "${text}"`);
  else assert.doesNotMatch(text ?? '', TIBETAN, `${what} is in English on an English page: "${text}"`);
}

function assertSummary(state, where) {
  assert.ok(state.summary, `${where}: a .govuk-error-summary is shown`);
  assert.ok(state.summaryHasAlert, `${where}: the error summary is announced (role=alert)`);
  assert.ok(state.links.length >= 1, `${where}: the error summary lists the error(s) as links`);
  for (const l of state.links) {
    assert.ok(l.targetExists, `${where}: error summary link ${l.href} ("${l.text}") points at a field on the page`);
  }
}

/** As a subtest (reported on its own, the test goes on): the summary and field errors are in the page's language. */
function checkMessagesLanguage(t, state, where, lang) {
  return t.test(`${where}: messages in ${lang === 'dz' ? 'Dzongkha' : 'English'}`, () => {
    assertLanguage(state.summaryTitle, lang, `the error summary's title`);
    for (const l of state.links) assertLanguage(l.text, lang, `the error summary's message for ${l.href}`);
    for (const f of ['username', 'password']) if (state[f].message) assertLanguage(state[f].message, lang, `the #${f} field error`);
  });
}

test('wrong password shows the error summary', async (t) => {
  const page = await dzong.newPage();
  try {
    const res = await signIn(page, { username: DEMO.citizen.username, password: 'not-the-password' });
    assert.equal(res.status(), 422, 'a refused sign-in answers 422');
    assert.equal(pathOf(page), '/sign-in', 'the form is shown again at /sign-in');
    const state = await errorState(page);
    assertSummary(state, 'wrong password (en)');
    await checkMessagesLanguage(t, state, 'wrong password', 'en');
    assert.equal(state.username.value, DEMO.citizen.username, 'the username is kept');
    assert.equal(state.password.value, '', 'the password is not sent back');
    await checkAxeStep(t, page, 'wrong-password');

    // The same refusal in Dzongkha.
    await switchLanguage(page);
    const dz = await signIn(page, { username: DEMO.citizen.username, password: 'not-the-password' });
    assert.equal(dz.status(), 422);
    assert.equal(await page.getAttribute('html', 'lang'), 'dz');
    const dzState = await errorState(page);
    assertSummary(dzState, 'wrong password (dz)');
    await checkMessagesLanguage(t, dzState, 'wrong password', 'dz');
    await checkAxeStep(t, page, 'wrong-password');
    await switchLanguage(page);

    // The form state as a whole, in both languages, through the header link.
    await signIn(page, { username: DEMO.citizen.username, password: 'not-the-password' });
    await checkPageStep(t, page, 'wrong-password-switch');
  } finally {
    await page.context().close();
  }
});

test('a malformed Citizenship ID shows a field error naming the rule', async (t) => {
  const page = await dzong.newPage();
  try {
    const res = await signIn(page, { username: '1234', password: DEMO.citizen.password });
    assert.equal(res.status(), 422, 'a malformed CID answers 422');
    const state = await errorState(page);
    assertSummary(state, 'malformed CID (en)');
    await checkMessagesLanguage(t, state, 'malformed CID', 'en');
    assert.ok(state.username.error, `a field error is shown for #username: ${JSON.stringify(state.username)}`);
    assert.match(state.username.error, /\b11\b/, 'the field error names the rule (11 digits)');
    assert.match(state.username.error, /digit/i, 'the field error names the rule (11 digits)');
    assert.ok(state.links.some((l) => l.href === '#username'), `the summary links to #username: ${JSON.stringify(state.links)}`);
    assert.ok(state.username.describedBy?.split(/\s+/).includes('username-error'), `#username is described by its error: ${state.username.describedBy}`);
    assert.ok(state.username.inputHasErrorClass && state.username.groupHasErrorClass, 'the field is styled as in error');
    assert.equal(state.username.value, '1234', 'what was typed is kept');
    await checkAxeStep(t, page, 'malformed-cid');

    await switchLanguage(page);
    const dz = await signIn(page, { username: '1234', password: DEMO.citizen.password });
    assert.equal(dz.status(), 422);
    const dzState = await errorState(page);
    assertSummary(dzState, 'malformed CID (dz)');
    await checkMessagesLanguage(t, dzState, 'malformed CID', 'dz');
    assert.ok(dzState.username.error, 'a field error is shown for #username in Dzongkha');
    assert.match(dzState.username.error, /11|༡༡/, `the Dzongkha field error names the rule (11 digits): ${dzState.username.error}`);
    await checkAxeStep(t, page, 'malformed-cid');
    await switchLanguage(page);
  } finally {
    await page.context().close();
  }
});

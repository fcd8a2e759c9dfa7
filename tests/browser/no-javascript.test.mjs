// Every form works without JavaScript: sign in and out with scripts disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot } from './a11y.mjs';
import { DEMO, headerLinks, pathOf, signIn, signOut, useDzong } from './harness.mjs';

const dzong = useDzong();

test('citizen signs in and out without JavaScript', async (t) => {
  const page = await dzong.newPage({ javaScriptEnabled: false });
  try {
    await page.goto('/');
    await screenshot(page, 'home', t);
    let res = await signIn(page, DEMO.citizen);
    assert.equal(pathOf(page), '/account', `signed in without JavaScript (status ${res.status()})`);
    assert.ok((await page.textContent('main')).includes(DEMO.citizen.name), 'the account page shows the name');
    await screenshot(page, 'account', t);
    res = await signOut(page);
    assert.equal(pathOf(page), '/', `signed out without JavaScript (status ${res.status()})`);
    const links = await headerLinks(page);
    assert.ok(links.some((l) => l.href === '/sign-in'), `"Sign in" in the header again: ${JSON.stringify(links)}`);
  } finally {
    await page.context().close();
  }
});

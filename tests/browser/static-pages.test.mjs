// Pages anyone can open: the accessibility statement, the forgotten-password
// form and the "page not found" page, each checked in both languages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPageStep } from './a11y.mjs';
import { useDzong } from './harness.mjs';

const dzong = useDzong();

async function layoutParts(page) {
  return page.evaluate(() => ({
    h1: document.querySelector('main h1')?.textContent.trim() ?? null,
    header: !!document.querySelector('header[role=banner], body > header'),
    footer: !!document.querySelector('footer'),
    skipLink: !!document.querySelector('a.govuk-skip-link[href="#main-content"]'),
    main: !!document.querySelector('main#main-content'),
  }));
}

for (const [name, path, status] of [
  ['accessibility', '/accessibility', 200],
  ['forgotten-password', '/forgotten-password', 200],
  ['not-found', '/no-such-page/at-all', 404],
]) {
  test(`static page: ${name}`, async (t) => {
    const page = await dzong.newPage();
    try {
      const res = await page.goto(path);
      assert.equal(res.status(), status, `GET ${path}`);
      assert.match(res.headers()['content-type'] ?? '', /^text\/html/, `GET ${path} is an HTML page`);
      const parts = await layoutParts(page);
      assert.ok(parts.h1, `${path} has an h1`);
      assert.ok(parts.header && parts.footer && parts.main && parts.skipLink, `${path} is in the layout: ${JSON.stringify(parts)}`);
      if (status === 404) assert.equal(parts.h1, 'Page not found');
      await checkPageStep(t, page, name);
    } finally {
      await page.context().close();
    }
  });
}

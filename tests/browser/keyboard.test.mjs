// Signing in with the keyboard alone: Tab through the skip link and the header
// to the form, type, Enter; every focused element must show where focus is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO, navigate, pathOf, useDzong } from './harness.mjs';

const dzong = useDzong();

/**
 * Describes the focused element and whether focus is visible on it: it must
 * match :focus-visible and draw something (a non-transparent outline of some
 * width, or a box-shadow). `:focus-visible` alone is not enough: after a Tab
 * it always matches, whatever the stylesheet draws.
 */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: 'body', visible: false };
    const cs = getComputedStyle(el);
    const transparent = (c) => c === 'transparent' || /rgba\(.*,\s*0\)$/.test(c);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 && !transparent(cs.outlineColor);
    const shadow = cs.boxShadow !== 'none';
    const r = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id || null,
      text: (el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 40),
      href: el.getAttribute('href'),
      focusVisible: el.matches(':focus-visible'),
      outline: `${cs.outlineStyle} ${cs.outlineWidth} ${cs.outlineColor}`,
      boxShadow: cs.boxShadow,
      visible: outline || shadow,
      onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0,
    };
  });
}

function assertVisiblyFocused(f, step) {
  assert.ok(f.tag !== 'body', `${step}: something has focus`);
  assert.ok(f.focusVisible, `${step}: ${JSON.stringify(f)} matches :focus-visible`);
  assert.ok(f.visible, `${step}: focus on ${f.tag}${f.id ? `#${f.id}` : ''} "${f.text}" is not visible (outline: ${f.outline}; box-shadow: ${f.boxShadow})`);
  assert.ok(f.onScreen, `${step}: the focused element is on screen`);
}

async function tabTo(page, predicate, what, max = 15) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    path.push(f);
    assertVisiblyFocused(f, `Tab ${i + 1} towards ${what}`);
    if (predicate(f)) return path;
  }
  assert.fail(`${what} not reached in ${max} Tabs: ${path.map((f) => `${f.tag}${f.id ? `#${f.id}` : ''} "${f.text}"`).join(' → ')}`);
}

test('keyboard-only sign-in', async () => {
  const page = await dzong.newPage();
  try {
    await page.goto('/sign-in');

    const path = await tabTo(page, (f) => f.id === 'username', '#username');
    assert.equal(path[0].text, 'Skip to main content', 'the first Tab reaches the skip link');
    assert.ok(path.length >= 3, `the header links come before the form: ${path.map((f) => f.text).join(' → ')}`);
    await page.keyboard.type(DEMO.citizen.username);

    await page.keyboard.press('Tab');
    const pw = await focused(page);
    assert.equal(pw.id, 'password', 'Tab from the username reaches the password');
    assertVisiblyFocused(pw, 'password');
    await page.keyboard.type(DEMO.citizen.password);

    await navigate(page, () => page.keyboard.press('Enter'));
    assert.equal(pathOf(page), '/account', 'Enter in the password field signs in');

    // And out again with the keyboard: the header's "Sign out" button.
    await tabTo(page, (f) => f.tag === 'button' && f.text === 'Sign out', 'the "Sign out" button');
    await navigate(page, () => page.keyboard.press('Enter'));
    assert.equal(pathOf(page), '/', 'Enter on "Sign out" signs out');
  } finally {
    await page.context().close();
  }
});

// End-to-end tests of the jpkid pages in Debian's chromium, driven by
// playwright-core. Started by tests/browser/run.py, which passes:
//   JPKI_BASE_URL   http://127.0.0.1:PORT (jpkid serving web/)
//   JPKI_NPM_DIR    where npm-install put playwright-core
//   JPKI_ARTIFACTS  directory for screenshots (listed in screenshots.txt)
//   JPKI_TODAY      jpkid's "today" (JPKI_NOW), YYYY-MM-DD
//   JPKI_USERS      {"user": {"role", "password"}}
//   JPKI_RESIDENTS  [{id, birth, card_expires, auth_expires, ...}] with an
//                   open renewal window today (picked from the store)
// Dates the pages show are checked against computations made here, from
// DOMAIN.md's rules, not against the server's own code.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) { console.error(`e2e: ${k} is not set`); process.exit(2); }
  return v;
};
const BASE = env('JPKI_BASE_URL');
const ART = env('JPKI_ARTIFACTS');
const TODAY = env('JPKI_TODAY');
const USERS = JSON.parse(env('JPKI_USERS'));
const RESIDENTS = JSON.parse(env('JPKI_RESIDENTS'));
const require = createRequire(path.join(env('JPKI_NPM_DIR'), 'package.json'));
const { chromium } = require('playwright-core');

const userOf = (role) => Object.entries(USERS).find(([, u]) => u.role === role);

// ---- independent date rules (DOMAIN §1, §2) ---------------------------------

function parse(iso) { const [y, m, d] = iso.split('-').map(Number); return { y, m, d }; }
function iso(y, m, d) { return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`; }
function daysInMonth(y, m) { return new Date(Date.UTC(y, m, 0)).getUTCDate(); }
function addDays(s, n) {
  const { y, m, d } = parse(s);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}
function addMonths(s, n) {
  const { y, m, d } = parse(s);
  const k = y * 12 + (m - 1) + n;
  const yy = Math.floor(k / 12), mm = (k % 12) + 1;
  return iso(yy, mm, Math.min(d, daysInMonth(yy, mm)));
}
// The renewal window: the day after the date three months before, to the expiry.
function renewalWindow(expires) { return { first: addDays(addMonths(expires, -3), 1), last: expires }; }
function dayDiff(a, b) {
  const pa = parse(a), pb = parse(b);
  return Math.round((Date.UTC(pb.y, pb.m - 1, pb.d) - Date.UTC(pa.y, pa.m - 1, pa.d)) / 86400000);
}
// The nth birthday strictly after `after`; Feb 29 falls on Feb 28 in common years.
function nthBirthdayAfter(birth, after, n) {
  const b = parse(birth);
  const a = parse(after);
  const on = (y) => (b.m === 2 && b.d === 29 && daysInMonth(y, 2) === 28 ? iso(y, 2, 28) : iso(y, b.m, b.d));
  let y = on(a.y) > after ? a.y : a.y + 1;
  return on(y + n - 1);
}
// 和暦 (our own table: 令和 2019-05-01, 平成 1989-01-08, 昭和 1926-12-25, ...).
function wareki(s) {
  const eras = [['令和', '2019-05-01'], ['平成', '1989-01-08'], ['昭和', '1926-12-25'], ['大正', '1912-07-30'], ['明治', '1873-01-01']];
  const { y, m, d } = parse(s);
  for (const [name, start] of eras) {
    if (s >= start) {
      const n = y - Number(start.slice(0, 4)) + 1;
      return `${name}${n === 1 ? '元' : n}年${m}月${d}日`;
    }
  }
  return `${y}年${m}月${d}日`;
}

// Sanity of the helpers against DOMAIN's worked examples.
const selfTest = [
  [renewalWindow('2026-05-20').first, '2026-02-21'], [renewalWindow('2027-03-24').first, '2026-12-25'],
  [renewalWindow('2026-04-01').first, '2026-01-02'], [renewalWindow('2026-05-30').first, '2026-03-01'],
  [renewalWindow('2027-05-31').first, '2027-03-01'], [renewalWindow('2026-04-10').first, '2026-01-11'],
  [wareki('2019-05-01'), '令和元年5月1日'], [wareki('2026-05-20'), '令和8年5月20日'], [wareki('1989-01-07'), '昭和64年1月7日'],
  [nthBirthdayAfter('1970-05-20', '2026-03-01', 6), '2031-05-20'], [nthBirthdayAfter('1970-05-20', '2026-05-20', 6), '2032-05-20'],
  [nthBirthdayAfter('1972-02-29', '2026-03-01', 5), '2031-02-28'],
];
for (const [got, want] of selfTest) {
  if (got !== want) { console.error(`e2e: helper self-test: ${got} != ${want}`); process.exit(2); }
}

// ---- harness -------------------------------------------------------------------

const failures = [];
const shots = [];
let shotNo = 0;

class CheckError extends Error {}
function check(cond, msg) {
  if (!cond) throw new CheckError(msg);
  console.log(`  ok  ${msg}`);
}
function eq(got, want, msg) { check(got === want, `${msg}: ${JSON.stringify(got)} ${got === want ? '==' : '!='} ${JSON.stringify(want)}`); }

async function shot(page, name, opts) {
  shotNo += 1;
  const file = path.join(ART, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...(opts || {}) });
  shots.push(file);
  return file;
}

// Every page is watched for script errors and CSP violations (the pages use
// no inline script or style, so there must be none).
function watch(page, label) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`${label}: page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      const t = m.text();
      // A failed API request is logged by chromium as a resource error: the
      // scenarios provoke some (wrong PIN, logged out) on purpose.
      if (/Failed to load resource: the server responded with a status of (4\d\d)/.test(t)) return;
      problems.push(`${label}: console error: ${t}`);
    }
  });
  page.problems = problems;
  return page;
}

async function scenario(name, browser, fn) {
  console.log(`scenario ${name}`);
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  context.setDefaultTimeout(15000);
  const page = watch(await context.newPage(), name);
  try {
    await fn(page, context);
    if (page.problems.length) throw new CheckError(page.problems.join('\n'));
  } catch (e) {
    failures.push(`${name}: ${e.message}`);
    console.log(`  FAIL ${e.message}`);
    try { await shot(page, `${name}-FAILED`); } catch (e2) { /* page gone */ }
  } finally {
    await context.close();
  }
}

async function textOf(loc) { return (await loc.textContent() || '').trim(); }

// ---- (a) the resident page --------------------------------------------------------

async function residentCase(page, expires, want) {
  await page.getByTestId('mode-expires').check();
  await page.getByTestId('input-expires').fill(expires);
  await page.getByTestId('guide-submit').click();
  const result = page.getByTestId('guide-result');
  await result.waitFor({ state: 'visible' });
  // Wait for this answer (the previous one may still be shown).
  await page.waitForFunction((e) => document.querySelector('[data-testid=expires-iso]').textContent === e, expires);
  const w = renewalWindow(expires);
  eq(await textOf(page.getByTestId('expires-iso')), expires, `${expires}: expiry shown`);
  eq(await textOf(page.getByTestId('expires-wareki')), wareki(expires), `${expires}: expiry in 和暦`);
  eq(await textOf(page.getByTestId('window-first')), w.first, `${expires}: window opens`);
  eq(await textOf(page.getByTestId('window-last')), w.last, `${expires}: window closes`);
  eq(await textOf(page.getByTestId('window-first-wareki')), wareki(w.first), `${expires}: window opens, 和暦`);
  eq(await textOf(page.getByTestId('window-last-wareki')), wareki(w.last), `${expires}: window closes, 和暦`);
  const state = TODAY < w.first ? 'not_yet' : TODAY <= w.last ? 'open' : 'expired';
  if (want) eq(state, want, `${expires}: the test's own state on ${TODAY}`);
  const label = { not_yet: 'まだ', open: '受付中', expired: '期限切れ' }[state];
  eq(await page.getByTestId('window-state').getAttribute('data-state'), state, `${expires}: state`);
  eq(await textOf(page.getByTestId('window-state')), label, `${expires}: state label`);
  const days = await textOf(page.getByTestId('window-days'));
  const left = dayDiff(TODAY, expires);
  if (state === 'expired') check(days.includes(`${-left}日`), `${expires}: days past shown (${days})`);
  else check(days.includes(`あと${left}日`), `${expires}: days left ${left} shown (${days})`);
  return state;
}

async function residentPage(page) {
  await page.goto(`${BASE}/`);
  check(/電子証明書の更新時期を調べる/.test(await page.title()), 'resident page title');
  const csp = (await page.request.get(`${BASE}/`)).headers()['content-security-policy'];
  if (!csp) console.log('  NOTE jpkid sends no Content-Security-Policy header on /');
  else check(/default-src 'self'/.test(csp), `CSP header: ${csp}`);

  // Client-side validation: nothing entered.
  await page.getByTestId('guide-submit').click();
  await page.getByTestId('alert').waitFor({ state: 'visible' });
  check((await textOf(page.getByTestId('alert'))).length > 0, 'empty form: alert shown');

  // The doc's and DOMAIN's examples: month-end clamping, the day after.
  await residentCase(page, '2027-05-31', TODAY < '2027-03-01' ? 'not_yet' : null);
  await shot(page, 'resident-not-yet');
  await residentCase(page, '2026-05-20', TODAY > '2026-05-20' ? 'expired' : null);
  await shot(page, 'resident-expired');
  // One whose window is open today.
  const openExp = addDays(TODAY, 30);
  await residentCase(page, openExp, 'open');
  check(!(await page.getByTestId('alert').isVisible()), 'no alert after a good answer');

  // What to bring: one tab per applicant type, each with items.
  const tabs = page.getByRole('tab');
  const n = await tabs.count();
  check(n >= 4, `bring: ${n} tabs`);
  const wantTabs = ['self', 'proxy-with-form', 'proxy-without-form', 'legal-rep'];
  for (const key of wantTabs) {
    await page.getByTestId(`bring-tab-${key}`).click();
    const panel = page.getByTestId(`bring-panel-${key}`);
    await panel.waitFor({ state: 'visible' });
    const items = panel.locator('.bring-list li');
    check(await items.count() >= 1, `bring ${key}: ${await items.count()} items`);
  }
  await page.getByTestId('bring-tab-self').click();
  check((await textOf(page.getByTestId('bring-panel-self'))).includes('マイナンバーカード'), 'bring self: マイナンバーカード');
  await page.getByTestId('bring-tab-proxy-without-form').click();
  check((await textOf(page.getByTestId('bring-panel-proxy-without-form'))).includes('2回'), 'bring proxy without form: two visits');
  // The office, its open days, the booking.
  check((await textOf(page.getByTestId('office-name'))).length > 0, `office: ${await textOf(page.getByTestId('office-name'))}`);
  check((await textOf(page.getByTestId('office-today'))).includes('本日'), 'office: today');
  check(await page.getByTestId('open-days').locator('li').count() >= 1, 'office: next open days');
  eq(await page.getByTestId('reservable').getAttribute('data-bookable'), 'true', 'reservable in the open window');
  await page.getByTestId('bring-tab-self').click();
  await shot(page, 'resident-open');

  // Birth date and issue date instead: the 5th birthday after the issue.
  await page.getByTestId('mode-birth-issued').check();
  await page.getByTestId('input-birth').fill('1990-05-20');
  await page.getByTestId('input-issued').fill('2022-03-01');
  await page.getByTestId('guide-submit').click();
  const want = nthBirthdayAfter('1990-05-20', '2022-03-01', 5);
  await page.waitForFunction((e) => document.querySelector('[data-testid=expires-iso]').textContent === e, want);
  eq(await textOf(page.getByTestId('window-first')), renewalWindow(want).first, `birth+issued: window opens (expiry ${want})`);

  // An error from the API lands in the alert region.
  await page.getByTestId('input-birth').fill('2020-01-01');
  await page.getByTestId('input-issued').fill('2019-01-01');
  await page.getByTestId('guide-submit').click();
  await page.getByTestId('alert').waitFor({ state: 'visible' });
  const alertText = await textOf(page.getByTestId('alert'));
  check(alertText.length > 0 && !alertText.includes('{'), `API error shown: ${alertText}`);
  await shot(page, 'resident-api-error');

  // A narrow screen (a phone).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('mode-expires').check();
  await page.getByTestId('input-expires').fill(openExp);
  await page.getByTestId('guide-submit').click();
  await page.waitForFunction((e) => document.querySelector('[data-testid=expires-iso]').textContent === e, openExp);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 1, `narrow screen: no horizontal scroll (${overflow}px)`);
  await shot(page, 'resident-narrow');
}

// ---- (b), (c) the counter ------------------------------------------------------------

async function login(page, user) {
  const form = page.getByTestId('login-form');
  await form.waitFor({ state: 'visible' });
  await page.getByTestId('login-user').fill(user);
  await page.getByTestId('login-password').fill(USERS[user].password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('whoami').waitFor({ state: 'visible' });
  check((await textOf(page.getByTestId('whoami'))).includes(user), `logged in as ${user}`);
}

async function openResident(page, r) {
  await page.getByTestId('search-q').fill(String(r.id));
  await page.getByTestId('search-submit').click();
  const item = page.locator(`[data-testid=result-item][data-id="${r.id}"]`);
  await item.waitFor({ state: 'visible' });
  await item.click();
  await page.waitForFunction((id) => {
    const d = document.querySelector('[data-testid=resident-detail]');
    return d && !d.hidden && d.dataset.residentId === String(id) &&
      document.querySelector('[data-testid=resident-id]').textContent === String(id);
  }, r.id);
}

// Types a PIN on the on-screen pad, key by key, into the field `kind`.
async function padType(panel, kind, pin) {
  await panel.getByTestId(`pin-display-${kind}`).click();
  for (const ch of pin) await panel.getByTestId(`pinpad-key-${ch}`).click();
  eq(await textOf(panel.getByTestId(`pin-dots-${kind}`)), '●'.repeat(pin.length), `${kind} PIN masked`);
}

async function counterRenew(page) {
  const [cuser] = userOf('counter');
  const r = RESIDENTS[0];
  await page.goto(`${BASE}/counter.html`);
  await login(page, cuser);
  // A reload resumes the session (GET /api/v1/session gives the CSRF token back).
  await page.reload();
  await page.getByTestId('whoami').waitFor({ state: 'visible' });
  check(!(await page.getByTestId('login-form').isVisible()), 'reload: still logged in');
  // A search by part of the kana lists several residents.
  await page.getByTestId('search-q').fill('タナカ');
  await page.getByTestId('search-submit').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=result-item]').length > 1);
  check(true, `kana search: ${await page.getByTestId('result-item').count()} residents`);
  await shot(page, 'counter-logged-in');
  await openResident(page, r);
  eq(await page.getByTestId('renewal-state').getAttribute('data-state'), 'open', `resident ${r.id}: renewal open`);
  const w = renewalWindow(r.auth_expires);
  eq(await textOf(page.getByTestId('renewal-window-first')), `（${w.first}）`, 'renewal window opens');
  // A counter clerk sees renew and PIN reset, not revoke or events.
  check(await page.getByTestId('action-renew').isVisible(), 'counter: 更新 shown');
  check(await page.getByTestId('action-pin-reset').isVisible(), 'counter: 暗証番号初期化 shown');
  check(!(await page.getByTestId('action-event').isVisible()), 'counter: events hidden');
  check(await page.getByTestId('action-revoke').count() > 0 && !(await page.getByTestId('action-revoke').first().isVisible()), 'counter: 失効 hidden');
  const oldAuth = await page.locator('[data-testid=cert-row-auth][data-status=good] [data-testid=cert-expires] .iso').first().textContent();
  eq(oldAuth, `（${r.auth_expires}）`, 'old auth expiry shown');
  await shot(page, 'counter-resident');

  await page.getByTestId('action-renew').click();
  const panel = page.getByTestId('renew-panel');
  await panel.waitFor({ state: 'visible' });
  check(!(await page.getByTestId('renew-early').isVisible()), 'early checkbox hidden inside the window');
  await padType(panel, 'sign', 'ABC123');
  await padType(panel, 'auth', '1234');
  // The PINs are nowhere in the page in clear: not in the displays, not in
  // any input's value.
  const displays = await panel.locator('.pin-display').evaluateAll((els) => els.map((e) => e.textContent));
  const values = await page.locator('input').evaluateAll((els) => els.map((e) => e.value));
  check(!displays.concat(values).some((t) => t.includes('ABC123') || t.includes('1234')), 'PINs never shown in clear');
  await shot(page, 'counter-pinpad');
  await page.getByTestId('renew-submit').click();
  await page.getByTestId('op-ok').waitFor({ state: 'visible', timeout: 60000 });
  const newAuth = await page.getByTestId('new-expires-auth').getAttribute('data-expires');
  const newSign = await page.getByTestId('new-expires-sign').getAttribute('data-expires');
  check(newAuth && newAuth !== r.auth_expires && newAuth > r.auth_expires, `new auth expiry ${newAuth} after the old ${r.auth_expires}`);
  // Inside the window: the 6th birthday after today, capped by the card.
  let want = nthBirthdayAfter(r.birth, TODAY, 6);
  if (r.card_expires < want) want = r.card_expires;
  eq(newAuth, want, 'new auth expiry = 6th birthday after today (or the card\'s expiry)');
  eq(newSign, want, 'new sign expiry');
  check((await textOf(page.getByTestId('new-expires-auth'))).includes(wareki(newAuth)), 'new expiry in 和暦');
  // The detail is reloaded: the new certificate is the good one.
  await page.waitForFunction((e) => [...document.querySelectorAll('[data-testid=cert-row-auth][data-status=good] .iso')]
    .some((x) => x.textContent.includes(e)), newAuth);
  check(await page.locator('[data-testid=cert-row-auth][data-status=revoked]').count() >= 1, 'old auth certificate now revoked');
  await shot(page, 'counter-renewed');
}

async function counterWrongPin(page, context) {
  const [cuser] = userOf('counter');
  const r = RESIDENTS[1];
  await page.goto(`${BASE}/counter.html`);
  await login(page, cuser);
  await openResident(page, r);
  await page.getByTestId('action-renew').click();
  const panel = page.getByTestId('renew-panel');
  await panel.waitFor({ state: 'visible' });
  await padType(panel, 'sign', 'ABC123');
  await padType(panel, 'auth', '9999');
  await page.getByTestId('renew-submit').click();
  const err = page.getByTestId('op-error');
  await err.waitFor({ state: 'visible', timeout: 60000 });
  const msg = await textOf(err);
  check(msg.length > 0 && /[ぁ-んァ-ン一-龥]/.test(msg), `refusal shown: ${msg}`);
  eq(await textOf(page.getByTestId('op-error-code')), 'エラーコード: wrong_pin', 'refusal code');
  eq(await textOf(panel.getByTestId('pin-dots-auth')), '', 'PINs cleared after the attempt');
  // Nothing changed: the old certificate is still the good one.
  const still = await page.locator('[data-testid=cert-row-auth][data-status=good] [data-testid=cert-expires] .iso').first().textContent();
  eq(still, `（${r.auth_expires}）`, 'auth certificate unchanged');
  await shot(page, 'counter-wrong-pin');

  // The PIN pad on a narrow (tablet in portrait, phone) screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByTestId('renew-cancel').click();
  await page.getByTestId('action-renew').click();
  await panel.waitFor({ state: 'visible' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 1, `narrow counter: no horizontal scroll (${overflow}px)`);
  const key = await panel.getByTestId('pinpad-key-5').boundingBox();
  check(key.width >= 44 && key.height >= 44, `narrow counter: PIN keys at least 44px (${Math.round(key.width)}x${Math.round(key.height)})`);
  await shot(page, 'counter-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });

  // The session goes away (cookie gone): the next call shows the login again.
  await context.clearCookies();
  await page.getByTestId('search-q').fill(String(r.id));
  await page.getByTestId('search-submit').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  check((await textOf(page.getByTestId('login-message'))).length > 0, `login again with a message: ${await textOf(page.getByTestId('login-message'))}`);
  check(!(await page.getByTestId('alert').isVisible()), 'the message is shown once (no second alert)');
  check(!(await page.getByTestId('resident-detail').isVisible()), 'the resident is no longer shown');
  await shot(page, 'counter-session-lost');
}

// ---- (e) a supervisor: early renewal, PIN reset, an event, a revocation ------------------

async function supervisorFlows(page) {
  const [suser] = userOf('supervisor');
  const r = RESIDENTS.find((x) => x.role === 'not_yet');
  await page.goto(`${BASE}/counter.html`);
  await login(page, suser);
  await openResident(page, r);
  eq(await page.getByTestId('renewal-state').getAttribute('data-state'), 'not_yet', `resident ${r.id}: before the window`);
  check(await page.getByTestId('action-event').isVisible(), 'supervisor: events shown');
  check(await page.getByTestId('action-revoke').first().isVisible(), 'supervisor: 失効 shown');

  // Early renewal: refused until 期間前更新 is ticked, then the 5th birthday.
  await page.getByTestId('action-renew').click();
  const panel = page.getByTestId('renew-panel');
  await panel.waitFor({ state: 'visible' });
  check(await page.getByTestId('renew-early').isVisible(), 'early checkbox shown before the window');
  await page.getByTestId('pin-source-form').check();
  await padType(panel, 'sign', 'ABC123');
  await padType(panel, 'auth', '1234');
  await page.getByTestId('renew-submit').click();
  await page.getByTestId('op-error').waitFor({ state: 'visible' });
  eq(await textOf(page.getByTestId('op-error-code')), 'エラーコード: not_in_window', 'not ticked: refused');
  await page.getByTestId('renew-early').check();
  check(await page.getByTestId('early-warning').isVisible(), 'early: the shorter-validity warning');
  // Nothing was sent: the PINs are kept. Clear them and type them with the
  // keyboard this time (staff reading the sealed form; lower case is
  // upper-cased).
  eq(await textOf(panel.getByTestId('pin-dots-sign')), '●●●●●●', 'PINs kept after a check in the page');
  for (const kind of ['sign', 'auth']) {
    await panel.getByTestId(`pin-display-${kind}`).click();
    await panel.getByTestId('pinpad-clear').click();
    eq(await textOf(panel.getByTestId(`pin-dots-${kind}`)), '', `${kind} PIN cleared`);
  }
  await panel.getByTestId('pin-display-sign').click();
  await page.keyboard.type('abc123');
  eq(await textOf(panel.getByTestId('pin-dots-sign')), '●●●●●●', 'sign PIN typed, masked');
  await panel.getByTestId('pin-display-auth').click();
  await page.keyboard.type('1234');
  await shot(page, 'counter-early');
  await page.getByTestId('renew-submit').click();
  await page.getByTestId('op-ok').waitFor({ state: 'visible', timeout: 60000 });
  const newAuth = await page.getByTestId('new-expires-auth').getAttribute('data-expires');
  let want = nthBirthdayAfter(r.birth, TODAY, 5);
  if (r.card_expires < want) want = r.card_expires;
  eq(newAuth, want, 'early renewal: 5th birthday after today (or the card\'s expiry)');
  check(newAuth <= nthBirthdayAfter(r.birth, TODAY, 6), 'early renewal is not longer than an in-window one');

  // PIN reset of the auth PIN on the pad.
  await page.getByTestId('action-pin-reset').click();
  const rp = page.getByTestId('pin-reset-panel');
  await rp.waitFor({ state: 'visible' });
  await page.getByTestId('pin-reset-kind').selectOption('auth');
  await padType(rp, 'auth', '5678');
  await page.getByTestId('pin-reset-submit').click();
  await page.getByTestId('op-ok').waitFor({ state: 'visible', timeout: 60000 });
  check((await textOf(page.getByTestId('op-result'))).includes('初期化'), 'PIN reset done');

  // A change of name: the signing certificate goes (affiliationChanged).
  await page.getByTestId('action-event').click();
  await page.getByTestId('event-panel').waitFor({ state: 'visible' });
  await page.getByTestId('event-type').selectOption('rename');
  await page.locator('#ev-name').fill('試験 花子');
  await page.locator('#ev-kana').fill('シケン ハナコ');
  await page.getByTestId('event-confirm').check();
  await page.getByTestId('event-submit').click();
  await page.getByTestId('op-ok').waitFor({ state: 'visible', timeout: 60000 });
  await page.waitForFunction(() => document.querySelector('[data-testid=resident-name]').textContent === '試験 花子');
  check((await textOf(page.getByTestId('revoked-list'))).includes('署名用'), 'rename: signing certificate revoked');
  eq(await page.locator('[data-testid=cert-row-sign][data-status=good]').count(), 0, 'no good signing certificate left');

  // Revoke the auth certificate by hand.
  await page.locator('[data-testid=cert-row-auth][data-status=good] [data-testid=action-revoke]').click();
  await page.getByTestId('revoke-panel').waitFor({ state: 'visible' });
  await page.getByTestId('revoke-reason').selectOption('cessationOfOperation');
  await page.getByTestId('revoke-confirm').check();
  await page.getByTestId('revoke-submit').click();
  await page.getByTestId('op-ok').waitFor({ state: 'visible', timeout: 60000 });
  await page.waitForFunction(() => !document.querySelector('[data-testid=cert-row-auth][data-status=good]'));
  check(true, 'auth certificate revoked');
  await shot(page, 'counter-supervisor-done');
}

// ---- the session expires (a jpkid with --session-idle 2) ----------------------------------

async function sessionExpired(page) {
  const short = process.env.JPKI_SHORT_SESSION_URL;
  if (!short) { console.log('  NOTE no JPKI_SHORT_SESSION_URL: skipped'); return; }
  await page.goto(`${short}/counter.html`);
  await login(page, userOf('counter')[0]);
  await page.waitForTimeout(3500);
  await page.getByTestId('search-q').fill(String(RESIDENTS[0].id));
  await page.getByTestId('search-submit').click();
  await page.getByTestId('login-form').waitFor({ state: 'visible' });
  const msg = await textOf(page.getByTestId('login-message'));
  check(/ログイン/.test(msg), `session_expired: login again with the server's message: ${msg}`);
  check(!(await page.getByTestId('alert').isVisible()), 'session_expired: shown once');
  await shot(page, 'counter-session-expired');
  // Logging in again works.
  await login(page, userOf('counter')[0]);
}

// ---- (d) the admin page ------------------------------------------------------------------

async function adminPage(page, context, browser) {
  const [auser] = userOf('admin');
  await page.goto(`${BASE}/admin.html`);
  await login(page, auser);
  const chart = page.getByTestId('expiry-chart');
  await chart.waitFor({ state: 'visible' });
  const months = await page.$$eval('[data-testid=expiry-chart] rect[data-month]', (rs) => rs.map((r) => r.getAttribute('data-month')));
  const distinct = [...new Set(months)];
  eq(distinct.length, 24, 'chart: 24 months');
  eq(months.length, 48, 'chart: sign and auth bars');
  eq(distinct[0], TODAY.slice(0, 7), 'chart starts this month');
  const expect = [];
  for (let i = 0; i < 24; i++) expect.push(addMonths(`${TODAY.slice(0, 7)}-01`, i).slice(0, 7));
  eq(distinct.join(','), expect.join(','), 'chart: consecutive months');
  check((await textOf(chart)).includes('今後24か月の有効期限到来件数'), 'chart title');
  check((await textOf(chart)).includes(`${TODAY.slice(0, 4)}/${TODAY.slice(5, 7)}`), 'month labels like YYYY/MM');
  // The bars carry the API's numbers.
  const api = await page.evaluate(async () => (await fetch('/api/v1/stats/expiring?months=24')).json());
  const bars = await page.$$eval('[data-testid=expiry-chart] rect[data-month]', (rs) => rs.map((r) => [r.dataset.month, r.dataset.kind, Number(r.dataset.count), Number(r.getAttribute('height'))]));
  for (const [m, kind, count] of bars) {
    const row = api.months.find((x) => x.month === m);
    if (!row || row[kind] !== count) throw new CheckError(`chart bar ${m} ${kind}: ${count} != API ${row && row[kind]}`);
  }
  const total = bars.reduce((a, b) => a + b[2], 0);
  check(total > 0, `chart: ${total} certificates expiring in 24 months`);
  const tallest = bars.reduce((a, b) => (b[2] > a[2] ? b : a));
  check(bars.every((b) => b[3] <= tallest[3] + 0.01 && (b[2] > 0) === (b[3] > 0)), 'bar heights follow the counts');
  await shot(page, 'admin-chart');

  // Expiry notices: the three months, a count, a run watched to the end.
  const section = page.getByTestId('notice-section');
  await page.getByTestId('notice-month-row').first().waitFor({ state: 'visible' });
  const nmonths = await page.$$eval('[data-testid=notice-month-row]', (rs) => rs.map((r) => r.dataset.month));
  const due = addMonths(`${TODAY.slice(0, 7)}-01`, 2).slice(0, 7);
  eq(nmonths.join(','), [0, 1, 2].map((k) => addMonths(`${TODAY.slice(0, 7)}-01`, k).slice(0, 7)).join(','), 'notices: this month to the month after next');
  eq(await page.getByTestId('notice-month').inputValue(), due, 'notices: the month after next is preselected');
  await page.getByTestId('notice-dry').click();
  await page.waitForFunction(() => /通/.test(document.querySelector('[data-testid=notice-result]').textContent), null, { timeout: 60000 });
  const counted = Number((await textOf(page.getByTestId('notice-result'))).match(/([0-9]+)通/)[1]);
  check(counted > 0, `notices: ${counted} letters counted for ${due}`);
  await page.getByTestId('notice-start').click();
  await page.waitForFunction(() => /完了しました|完了しませんでした/.test(document.querySelector('[data-testid=notice-progress-text]').textContent), null, { timeout: 120000 });
  const done = await textOf(page.getByTestId('notice-progress-text'));
  check(done.includes('完了しました') && done.includes(`${counted} 通`), `notices: the run finished: ${done}`);
  eq(await page.getByTestId('notice-progress').evaluate((p) => [p.value, p.max].join('/')), `${counted}/${counted}`, 'notices: the progress bar is full');
  await page.locator(`[data-testid=notice-month-row][data-month="${due}"][data-state=done]`).waitFor({ state: 'visible' });
  check(await section.getByTestId('notice-run-row').count() >= 1, 'notices: the run is listed');
  // Its files for the printing contractor: listed, and a letter file downloads as a PDF.
  const runRow = section.getByTestId('notice-run-row').first();
  const runId = await runRow.getAttribute('data-run');
  await runRow.getByTestId('notice-files-open').click();
  await page.getByTestId('notice-file').first().waitFor({ state: 'visible' });
  const fileNames = await page.$$eval('[data-testid=notice-file]', (ls) => ls.map((l) => l.dataset.name));
  check(fileNames.includes('municipal-001.pdf') && fileNames.includes('jlis-001.pdf') && fileNames.at(-2) === 'manifest.csv' && fileNames.at(-1) === 'summary.json',
    `notices: the run's files are listed: ${fileNames.join(', ')}`);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 30000 }),
    page.locator('[data-testid=notice-file][data-name="municipal-001.pdf"] a').click(),
  ]);
  eq(download.suggestedFilename(), `notice-run${runId}-municipal-001.pdf`, 'notices: the download is named after the run');
  const pdfHead = fs.readFileSync(await download.path()).subarray(0, 5).toString('latin1');
  eq(pdfHead, '%PDF-', 'notices: the downloaded letter file is a PDF');
  await shot(page, 'admin-notices');

  // CRLs.
  await page.getByTestId('crl-publish').click();
  await page.getByTestId('crl-table').waitFor({ state: 'visible', timeout: 60000 });
  const rows = await page.getByTestId('crl-row').count();
  check(rows >= 2, `CRL publish: ${rows} rows`);
  const kinds = await page.$$eval('[data-testid=crl-row] td:first-child', (tds) => tds.map((t) => t.textContent));
  check(kinds.includes('署名用') && kinds.includes('利用者証明用'), 'CRLs of both kinds');
  // OCSP.
  await page.getByTestId('ocsp-refresh').click();
  await page.waitForFunction(() => /件/.test(document.querySelector('[data-testid=ocsp-result]').textContent), null, { timeout: 60000 });
  check(true, `OCSP refresh: ${await textOf(page.getByTestId('ocsp-result'))}`);
  await shot(page, 'admin-crl');

  // Staff: the seeded accounts, add a supervisor, who sees the supervisor
  // actions on the counter page, then disable them (their session ends).
  for (const u of Object.keys(USERS)) {
    check(await page.locator(`[data-testid=staff-row][data-user="${u}"]`).count() === 1, `staff list has ${u}`);
  }
  const sup = 'browser-sup';
  const supPw = 'Browser-Supervisor-Pass-2026';
  await page.getByTestId('staff-user').fill(sup);
  await page.getByTestId('staff-role').selectOption('supervisor');
  await page.getByTestId('staff-password').fill(supPw);
  await page.getByTestId('staff-add').click();
  await page.locator(`[data-testid=staff-row][data-user="${sup}"]`).waitFor({ state: 'visible' });
  check(true, `staff ${sup} added`);

  const c2 = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ja-JP' });
  const p2 = watch(await c2.newPage(), 'supervisor');
  USERS[sup] = { role: 'supervisor', password: supPw };
  await p2.goto(`${BASE}/counter.html`);
  await login(p2, sup);
  await openResident(p2, RESIDENTS[1]);
  check(await p2.getByTestId('action-event').isVisible(), 'supervisor: events shown');
  check(await p2.getByTestId('action-revoke').first().isVisible(), 'supervisor: 失効 shown');
  await p2.getByTestId('action-event').click();
  await p2.getByTestId('event-panel').waitFor({ state: 'visible' });
  await shot(p2, 'counter-supervisor');

  const row = page.locator(`[data-testid=staff-row][data-user="${sup}"]`);
  await row.getByTestId('staff-disable').click();
  await row.getByTestId('staff-disable').click();   // confirm
  await page.waitForFunction((u) => /無効/.test(document.querySelector(`[data-testid=staff-row][data-user="${u}"] td:nth-child(3)`).textContent), sup);
  check(true, `staff ${sup} disabled`);
  await shot(page, 'admin-staff');

  await p2.getByTestId('search-submit').click();
  await p2.getByTestId('login-form').waitFor({ state: 'visible' });
  check(true, 'disabled supervisor: back to the login');
  if (p2.problems.length) throw new CheckError(p2.problems.join('\n'));
  await c2.close();

  // A counter clerk on the admin page: the chart, nothing else.
  const c3 = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ja-JP' });
  const p3 = watch(await c3.newPage(), 'admin-as-counter');
  await p3.goto(`${BASE}/admin.html`);
  await login(p3, userOf('counter')[0]);
  await p3.getByTestId('not-admin').waitFor({ state: 'visible' });
  check(!(await p3.getByTestId('crl-publish').isVisible()), 'counter on admin page: no CRL button');
  if (p3.problems.length) throw new CheckError(p3.problems.join('\n'));
  await c3.close();
}

// ---- main ----------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.JPKI_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--lang=ja-JP'],
});
try {
  await scenario('resident', browser, residentPage);
  await scenario('counter-renew', browser, counterRenew);
  await scenario('counter-wrong-pin', browser, counterWrongPin);
  await scenario('supervisor', browser, supervisorFlows);
  await scenario('session-expired', browser, sessionExpired);
  await scenario('admin', browser, (page, context) => adminPage(page, context, browser));
} finally {
  await browser.close();
}

fs.writeFileSync(path.join(ART, 'screenshots.txt'), shots.join('\n') + '\n');
if (failures.length) {
  console.log(`\n${failures.length} scenario(s) failed:`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log('\nall browser scenarios passed');

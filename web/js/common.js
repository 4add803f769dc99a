// Shared helpers for the openjpki pages: DOM building, dates and 和暦,
// the fetch wrapper (session cookie + CSRF header), the alert region and the
// staff login shared by counter.html and admin.html.
//
// The pages run under `Content-Security-Policy: default-src 'self'`: no
// inline scripts, no style attributes, no innerHTML with data. Everything
// from the API is put into the page with textContent.
'use strict';

(function () {
  const JPKI = {};
  window.JPKI = JPKI;

  // ---- DOM ---------------------------------------------------------------

  // h('tag', {class: 'x', dataset: {testid: 'y'}, onclick: fn}, child...)
  // Children are nodes or strings (text nodes); null/false are skipped.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    setAttrs(el, attrs);
    appendAll(el, children);
    return el;
  }

  function setAttrs(el, attrs) {
    if (!attrs) return;
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') {
        el.addEventListener(k.slice(2), v);
      } else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }

  function appendAll(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }

  // SVG element with attributes (used by the admin chart).
  const SVG_NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const el = document.createElementNS(SVG_NS, tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined) continue;
        if (k === 'text') el.textContent = v;
        else el.setAttribute(k, String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  Object.assign(JPKI, { h, clear, $, $$, svg });

  // ---- dates -------------------------------------------------------------

  const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

  // Is s a real calendar date YYYY-MM-DD (1868-01-01..2199-12-31)?
  function isIsoDate(s) {
    const m = ISO_DATE.exec(s || '');
    if (!m) return false;
    const y = +m[1], mo = +m[2], d = +m[3];
    if (y < 1868 || y > 2199 || mo < 1 || mo > 12 || d < 1) return false;
    return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
  }

  // Accepts YYYY-MM-DD, YYYY/MM/DD, YYYY.M.D and full-width digits; returns
  // YYYY-MM-DD or null.
  function normalizeDate(s) {
    if (!s) return null;
    const t = String(s).trim()
      .replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
      .replace(/[／.．年月]/g, '/').replace(/日$/, '').replace(/-/g, '/');
    const m = /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/.exec(t);
    if (!m) return null;
    const iso = `${m[1]}-${m[2].padStart(2, '0')}-${m[3].padStart(2, '0')}`;
    return isIsoDate(iso) ? iso : null;
  }

  // Era table (DOMAIN §1): 明治 counted from 1873-01-01; before it, 西暦.
  const ERAS = [
    ['令和', '2019-05-01'], ['平成', '1989-01-08'], ['昭和', '1926-12-25'],
    ['大正', '1912-07-30'], ['明治', '1873-01-01'],
  ];

  // 和暦 of an ISO date, for dates the API gave without a *_wareki field.
  function wareki(iso) {
    if (!isIsoDate(iso)) return '';
    const [y, m, d] = iso.split('-').map(Number);
    for (const [name, start] of ERAS) {
      if (iso >= start) {
        const n = y - Number(start.slice(0, 4)) + 1;
        return `${name}${n === 1 ? '元' : n}年${m}月${d}日`;
      }
    }
    return `${y}年${m}月${d}日`;
  }

  const WEEKDAYS = ['日', '月', '火', '水', '木', '金', '土'];
  function weekday(iso) {
    if (!isIsoDate(iso)) return '';
    const [y, m, d] = iso.split('-').map(Number);
    return WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
  }

  // Today's date in JST (the server's "today" wins wherever it is given).
  function todayJst() {
    const t = new Date(Date.now() + 9 * 3600 * 1000);
    return t.toISOString().slice(0, 10);
  }

  // "令和9年1月10日（2027-01-10）"
  function dateBoth(iso, wa) {
    if (!iso) return '—';
    return `${wa || wareki(iso)}（${iso}）`;
  }

  // A date element: 和暦 big, ISO small. testid optional.
  function dateEl(iso, wa, testid) {
    if (!iso) return h('span', { class: 'date-none' }, '—');
    return h('span', { class: 'date' },
      h('span', { class: 'wareki', dataset: testid ? { testid: testid + '-wareki' } : undefined },
        wa || wareki(iso)),
      ' ',
      h('span', { class: 'iso', dataset: testid ? { testid } : undefined }, `（${iso}）`));
  }

  // "2026-11-21T10:00:00+09:00" -> "2026-11-21 10:00"
  function instant(s) {
    if (!s) return '—';
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(s);
    if (m) return `${m[1]} ${m[2]}`;
    if (typeof s === 'number') {
      return new Date(s * 1000 + 9 * 3600 * 1000).toISOString().slice(0, 16).replace('T', ' ');
    }
    return String(s);
  }

  Object.assign(JPKI, { isIsoDate, normalizeDate, wareki, weekday, todayJst, dateBoth, dateEl, instant });

  // ---- labels ------------------------------------------------------------

  JPKI.labels = {
    kind: { sign: '署名用電子証明書', auth: '利用者証明用電子証明書' },
    kindShort: { sign: '署名用', auth: '利用者証明用' },
    windowState: { not_yet: 'まだ', open: '受付中', expired: '期限切れ' },
    certStatus: { good: '有効', revoked: '失効', expired: '期限切れ' },
    cardState: {
      active: '有効', returned: '返納', lost: '紛失', expired: '期限切れ', abolished: '廃止',
    },
    residentStatus: { registered: '住民登録あり', removed: '消除', deceased: '死亡' },
    sex: { 1: '男', 2: '女', 3: '不明', male: '男', female: '女' },
    role: { counter: '窓口', supervisor: '責任者', admin: '管理者' },
    renewalState: {
      open: '更新できます（更新期間中）',
      not_yet: '更新期間前（期間前更新は有効期限が短くなります）',
      expired: '有効期限切れ（カードが有効なら新規発行）',
      card_renewal: 'カードの更新が必要です（証明書はカードの期限で終わります）',
      no_card: '有効なカードがありません',
      not_registered: '住民登録がありません',
    },
    reason: {
      unspecified: '理由なし（unspecified）',
      keyCompromise: '鍵の危殆化・紛失（keyCompromise）',
      affiliationChanged: '記載事項の変更（affiliationChanged）',
      superseded: '更新による置換（superseded）',
      cessationOfOperation: '利用の終了（cessationOfOperation）',
    },
    reasonShort: {
      unspecified: '理由なし',
      keyCompromise: '鍵の危殆化・紛失',
      affiliationChanged: '記載事項の変更',
      superseded: '更新',
      cessationOfOperation: '利用の終了',
    },
    pinKind: {
      sign: '署名用電子証明書のパスワード（英数字6～16桁）',
      auth: '利用者証明用電子証明書の暗証番号（数字4桁）',
      juki: '住民基本台帳用の暗証番号（数字4桁）',
      text: '券面事項入力補助用の暗証番号（数字4桁）',
    },
  };

  // ---- alert region ------------------------------------------------------

  // The page's alert region (role="alert", data-testid="alert").
  function alertRegion() { return document.getElementById('alert'); }

  // Shows an error (an ApiError, an Error or a string) in the alert region.
  function showError(err, region) {
    if (err && err.authHandled) return;
    const el = region || alertRegion();
    if (!el) return;
    clear(el);
    let msg, code;
    if (err instanceof ApiError) { msg = err.message; code = err.code; } else if (err instanceof Error) { msg = err.message; } else { msg = String(err); }
    el.appendChild(h('p', { class: 'alert-message', dataset: { testid: 'alert-message' } }, msg));
    if (code) el.appendChild(h('p', { class: 'alert-code' }, `エラーコード: ${code}`));
    el.className = 'alert alert-error';
    el.hidden = false;
    el.scrollIntoView({ block: 'nearest' });
  }

  function showInfo(text, region) {
    const el = region || alertRegion();
    if (!el) return;
    clear(el);
    el.appendChild(h('p', { class: 'alert-message', dataset: { testid: 'alert-message' } }, text));
    el.className = 'alert alert-info';
    el.hidden = false;
  }

  function clearAlert(region) {
    const el = region || alertRegion();
    if (!el) return;
    clear(el);
    el.hidden = true;
  }

  Object.assign(JPKI, { showError, showInfo, clearAlert });

  // ---- API ---------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, body) {
      super(message);
      this.status = status;
      this.code = code;
      this.body = body;
    }
  }
  JPKI.ApiError = ApiError;

  // The CSRF token of the current session (memory only, never stored).
  let csrfToken = null;
  JPKI.setCsrf = (t) => { csrfToken = t || null; };

  // Called on 401 session_expired / login_required (set by the login code).
  let onAuthLost = null;

  // api('GET', '/api/v1/guide', null, {expires: '2027-01-10'})
  async function api(method, path, body, query) {
    let url = path;
    if (query) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== null && v !== undefined && v !== '') qs.set(k, v);
      }
      const s = qs.toString();
      if (s) url += (url.includes('?') ? '&' : '?') + s;
    }
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') {
      if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
      if (body !== null && body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
      }
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, 'network', 'サーバーに接続できません。ネットワークを確認してください。');
    }
    let data = null;
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const code = (data && data.error) || `http_${res.status}`;
      let msg = data && data.message;
      if (!msg) {
        if (res.status === 429) msg = '操作が多すぎます。しばらくしてからやり直してください。';
        else if (res.status >= 500) msg = 'サーバーで問題が発生しました。時間をおいてやり直してください。';
        else msg = `要求を処理できませんでした（HTTP ${res.status}）。`;
      }
      const err = new ApiError(res.status, code, msg, data);
      if (res.status === 401 && (code === 'session_expired' || code === 'login_required') &&
          onAuthLost && !path.endsWith('/login') && !path.endsWith('/session')) {
        // The login form shows the message; callers need not.
        err.authHandled = onAuthLost(err);
      }
      throw err;
    }
    if (data === null && text) {
      throw new ApiError(res.status, 'bad_response', 'サーバーの応答を読み取れませんでした。');
    }
    return data;
  }
  JPKI.api = api;

  // ---- staff login (counter.html, admin.html) ----------------------------

  // The page has: #login-section with form#login-form (#login-user,
  // #login-password, #login-message), #app (hidden until logged in), and in
  // the header #session-box with #whoami and #logout.
  // opts.onLogin(session) is called with {user, role, csrf, ...};
  // opts.onLogout() when the session ends.
  function setupLogin(opts) {
    const loginSection = document.getElementById('login-section');
    const form = document.getElementById('login-form');
    const msg = document.getElementById('login-message');
    const app = document.getElementById('app');
    const sessionBox = document.getElementById('session-box');
    const whoami = document.getElementById('whoami');
    const logoutBtn = document.getElementById('logout');
    let session = null;

    function showLogin(message) {
      session = null;
      clearAlert();
      JPKI.setCsrf(null);
      document.body.dataset.role = '';
      app.hidden = true;
      sessionBox.hidden = true;
      loginSection.hidden = false;
      if (message) {
        clear(msg);
        msg.appendChild(h('p', {}, message));
        msg.hidden = false;
      } else {
        clear(msg);
        msg.hidden = true;
      }
      form.querySelector('#login-password').value = '';
      if (opts.onLogout) opts.onLogout();
      const u = form.querySelector('#login-user');
      (u.value ? form.querySelector('#login-password') : u).focus();
    }

    function enter(s) {
      session = s;
      JPKI.setCsrf(s.csrf);
      document.body.dataset.role = s.role;
      loginSection.hidden = true;
      clear(msg);
      msg.hidden = true;
      app.hidden = false;
      sessionBox.hidden = false;
      whoami.textContent = `${s.user}（${JPKI.labels.role[s.role] || s.role}）`;
      clearAlert();
      opts.onLogin(s);
    }

    onAuthLost = (err) => {
      if (!session) return false;
      const text = err.code === 'session_expired'
        ? (err.message || 'ログインの有効期限が切れました。もう一度ログインしてください。')
        : `${err.message || 'ログインしてください。'}（セッションが終了しました）`;
      showLogin(text);
      return true;
    };

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const user = form.querySelector('#login-user').value.trim();
      const password = form.querySelector('#login-password').value;
      if (!user || !password) {
        showLoginError('ユーザー名とパスワードを入力してください。');
        return;
      }
      const btn = form.querySelector('button[type=submit]');
      btn.disabled = true;
      try {
        const s = await api('POST', '/api/v1/login', { user, password });
        form.querySelector('#login-password').value = '';
        enter(s);
      } catch (e) {
        showLoginError(e.message, e.code);
      } finally {
        btn.disabled = false;
      }
    });

    function showLoginError(text, code) {
      clear(msg);
      msg.appendChild(h('p', {}, text));
      if (code) msg.appendChild(h('p', { class: 'alert-code' }, `エラーコード: ${code}`));
      msg.hidden = false;
    }

    logoutBtn.addEventListener('click', async () => {
      try { await api('POST', '/api/v1/logout'); } catch (e) { /* the session may be gone already */ }
      showLogin('ログアウトしました。');
    });

    // Resume an existing session (the cookie is HttpOnly; the CSRF token
    // comes back from /api/v1/session).
    (async () => {
      try {
        const s = await api('GET', '/api/v1/session');
        enter(s);
      } catch (e) {
        if (e.code === 'session_expired') showLogin(e.message);
        else if (e.status === 401 || e.status === 404) showLogin(null);
        else showLogin(e.message);
      }
    })();

    return {
      session: () => session,
      can: (role) => roleAtLeast(session && session.role, role),
      showLogin,
    };
  }

  const ROLE_RANK = { counter: 1, supervisor: 2, admin: 3 };
  function roleAtLeast(have, need) {
    return (ROLE_RANK[have] || 0) >= (ROLE_RANK[need] || 99);
  }

  // Shows or hides every [data-min-role] element for the role.
  function applyRole(role, root) {
    for (const el of $$('[data-min-role]', root)) {
      el.hidden = !roleAtLeast(role, el.dataset.minRole);
    }
  }

  Object.assign(JPKI, { setupLogin, roleAtLeast, applyRole });

  // ---- misc --------------------------------------------------------------

  // Runs fn with the button disabled and a busy marker; errors go to the
  // alert region (or to opts.region).
  async function busy(btn, fn, region) {
    if (btn) { btn.disabled = true; btn.setAttribute('aria-busy', 'true'); }
    try {
      return await fn();
    } catch (e) {
      showError(e, region);
      return undefined;
    } finally {
      if (btn) { btn.disabled = false; btn.removeAttribute('aria-busy'); }
    }
  }
  JPKI.busy = busy;

  // Tabs: container with [role=tablist] buttons [role=tab][aria-controls].
  function setupTabs(tablist) {
    const tabs = $$('[role=tab]', tablist);
    function select(tab, focus) {
      for (const t of tabs) {
        const on = t === tab;
        t.setAttribute('aria-selected', on ? 'true' : 'false');
        t.tabIndex = on ? 0 : -1;
        const panel = document.getElementById(t.getAttribute('aria-controls'));
        if (panel) panel.hidden = !on;
      }
      if (focus) tab.focus();
    }
    tabs.forEach((t, i) => {
      t.addEventListener('click', () => select(t, false));
      t.addEventListener('keydown', (ev) => {
        let j = null;
        if (ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
        else if (ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
        else if (ev.key === 'Home') j = 0;
        else if (ev.key === 'End') j = tabs.length - 1;
        if (j !== null) { ev.preventDefault(); select(tabs[j], true); }
      });
    });
    if (tabs.length) select(tabs.find((t) => t.getAttribute('aria-selected') === 'true') || tabs[0], false);
    return { select: (i) => select(tabs[i], false) };
  }
  JPKI.setupTabs = setupTabs;
})();

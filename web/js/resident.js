// The resident page (index.html): when can my certificate be renewed, what
// to bring, when is the office open, can I book a visit. One call to
// GET /api/v1/guide (docs/HTTP-API.md) fills everything.
'use strict';

(function () {
  const { h, clear, $, api, labels } = window.JPKI;

  // The applicant types, in the order the tabs show them. The guide answers
  // self, proxy-with-form, proxy-without-form and guardian; legal-rep
  // (a child's 親権者) is fetched from /api/v1/bring when the guide lacks it.
  const APPLICANTS = [
    ['self', '本人'],
    ['proxy-with-form', '代理人（照会書兼回答書あり）'],
    ['proxy-without-form', '代理人（照会書なし・2回来庁）'],
    ['legal-rep', '法定代理人（親権者等）'],
    ['guardian', '成年後見人'],
  ];

  const CLOSED_REASON = {
    weekend: '土曜・日曜',
    holiday: '祝日・休日',
    'year-end': '年末年始',
    maintenance: 'システムメンテナンス',
    closure: '臨時閉庁',
  };

  const form = $('#guide-form');
  const result = $('#result');

  function mode() {
    return form.querySelector('input[name=mode]:checked').value;
  }

  function syncMode() {
    const m = mode();
    $('#fields-expires').hidden = m !== 'expires';
    $('#fields-birth-issued').hidden = m !== 'birth_issued';
  }
  for (const r of form.querySelectorAll('input[name=mode]')) r.addEventListener('change', syncMode);

  // Day difference b - a of two ISO dates.
  function daysBetween(a, b) {
    const pa = a.split('-').map(Number), pb = b.split('-').map(Number);
    return Math.round((Date.UTC(pb[0], pb[1] - 1, pb[2]) - Date.UTC(pa[0], pa[1] - 1, pa[2])) / 86400000);
  }

  function hoursText(hours) {
    if (!hours || !hours.length) return '';
    return hours.map((iv) => `${iv[0]}～${iv[1]}`).join('、');
  }

  function withWeekday(iso, wa, wd) {
    return `${wa || JPKI.wareki(iso)}（${wd || JPKI.weekday(iso)}）`;
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(true);
  });

  async function run(pushState) {
    JPKI.clearAlert();
    const query = {};
    if (mode() === 'expires') {
      const v = $('#expires').value;
      const d = JPKI.normalizeDate(v);
      if (!d) {
        JPKI.showError(v ? '有効期限の日付が正しくありません。年-月-日（例: 2027-05-31）で入力してください。'
          : '電子証明書の有効期限を入力してください。');
        $('#expires').focus();
        return;
      }
      query.expires = d;
    } else {
      const b = JPKI.normalizeDate($('#birth').value);
      const i = JPKI.normalizeDate($('#issued').value);
      if (!b || !i) {
        JPKI.showError('生年月日と電子証明書の発行日を、年-月-日（例: 1990-05-20）で入力してください。');
        (b ? $('#issued') : $('#birth')).focus();
        return;
      }
      query.birth = b;
      query.issued = i;
    }
    // Tests and demos may pin "today" with ?on=YYYY-MM-DD in the page URL.
    const on = new URLSearchParams(location.search).get('on');
    if (on && JPKI.isIsoDate(on)) query.on = on;

    const btn = form.querySelector('button[type=submit]');
    const data = await JPKI.busy(btn, () => api('GET', '/api/v1/guide', null, query));
    if (!data) { result.hidden = true; return; }
    if (pushState && history.replaceState) {
      const qs = new URLSearchParams(query);
      history.replaceState(null, '', `${location.pathname}?${qs}`);
    }
    await render(data);
    result.hidden = false;
    $('#window-title').scrollIntoView({ block: 'start', behavior: 'smooth' });
  }

  async function render(g) {
    const w = g.window || {};
    const today = g.today || JPKI.todayJst();

    $('#expires-wareki').textContent = g.expires_wareki || JPKI.wareki(g.expires);
    $('#expires-iso').textContent = g.expires || '';
    $('#window-first-wareki').textContent = w.first_wareki || JPKI.wareki(w.first);
    $('#window-first').textContent = w.first || '';
    $('#window-last-wareki').textContent = w.last_wareki || JPKI.wareki(w.last);
    $('#window-last').textContent = w.last || '';
    $('#today-wareki').textContent = g.today_wareki || JPKI.wareki(today);
    $('#today-iso').textContent = today;

    // State: まだ / 受付中 / 期限切れ, with the days.
    const state = w.state;
    const badge = $('#window-state');
    badge.textContent = labels.windowState[state] || state || '';
    badge.className = `badge badge-${state}`;
    badge.dataset.state = state || '';
    const banner = $('#window-state-banner');
    banner.className = `state-banner state-${state}`;
    const daysLeft = typeof w.days_left === 'number' ? w.days_left
      : (g.expires ? daysBetween(today, g.expires) : null);
    let daysText = '';
    if (state === 'not_yet' && w.first) {
      const n = daysBetween(today, w.first);
      daysText = `更新手続は ${w.first_wareki || JPKI.wareki(w.first)} からできます（あと${n}日）。有効期限まであと${daysLeft}日です。`;
    } else if (state === 'open') {
      daysText = daysLeft === 0 ? '本日が有効期限です。お早めに手続してください。'
        : `いま更新の手続ができます。有効期限まであと${daysLeft}日です。`;
    } else if (state === 'expired') {
      daysText = `有効期限が${daysLeft !== null ? Math.abs(daysLeft) + '日' : ''}過ぎています。`;
    }
    $('#window-days').textContent = daysText;

    const notes = clear($('#window-notes'));
    if (g.computed_from === 'birth_issued') {
      notes.appendChild(h('p', {}, '生年月日と発行日から計算した有効期限です（発行日の後の5回目の誕生日）。カードの有効期限が先に来る場合は、その日が電子証明書の有効期限になります。'));
    }
    if (state === 'not_yet') {
      notes.appendChild(h('p', {}, '更新手続ができる期間より前でも手続はできますが、新しい電子証明書の有効期限が短くなります（発行日の後の5回目の誕生日まで）。期間内に更新すると、6回目の誕生日までになります。'));
    } else if (state === 'open') {
      notes.appendChild(h('p', {}, '期間内に更新すると、新しい電子証明書は発行日の後の6回目の誕生日まで有効です。有効期限通知書が届いていなくても手続できます。手数料は無料です。'));
    } else if (state === 'expired') {
      notes.appendChild(h('p', {}, '有効期限が過ぎた電子証明書は使えませんが、マイナンバーカードが有効であれば、窓口で新しい電子証明書を無料で発行できます。'));
    }

    await renderBring(g.bring || {});
    renderOffice(g.office || {});
    renderReservable(g.reservable, w);
  }

  // ---- what to bring -------------------------------------------------------

  async function renderBring(bring) {
    const all = Object.assign({}, bring);
    if (!all['legal-rep']) {
      try {
        all['legal-rep'] = await api('GET', '/api/v1/bring', null, { procedure: 'renew', applicant: 'legal-rep' });
      } catch (e) { /* optional: the tab is left out */ }
    }
    const tabs = clear($('#bring-tabs'));
    const panels = clear($('#bring-panels'));
    const keys = APPLICANTS.map((a) => a[0]).filter((k) => all[k])
      .concat(Object.keys(all).filter((k) => !APPLICANTS.some((a) => a[0] === k)));
    keys.forEach((key, i) => {
      const label = (APPLICANTS.find((a) => a[0] === key) || [key, key])[1];
      tabs.appendChild(h('button', {
        type: 'button', role: 'tab', id: `tab-${key}`, 'aria-controls': `panel-${key}`,
        'aria-selected': i === 0 ? 'true' : 'false', class: 'tab', dataset: { testid: `bring-tab-${key}` },
      }, label));
      panels.appendChild(bringPanel(key, label, all[key]));
    });
    JPKI.setupTabs(tabs);
  }

  function bringPanel(key, label, b) {
    const panel = h('div', {
      role: 'tabpanel', id: `panel-${key}`, 'aria-labelledby': `tab-${key}`, class: 'tabpanel',
      tabindex: '0', dataset: { testid: `bring-panel-${key}` },
    });
    const facts = [];
    if (b.visits > 1) facts.push(h('span', { class: 'chip chip-warn' }, `来庁${b.visits}回`));
    if (b.main_office_only) facts.push(h('span', { class: 'chip' }, '本庁の窓口のみ'));
    if (typeof b.fee_yen === 'number') {
      facts.push(h('span', { class: 'chip' }, b.fee_yen === 0 ? '手数料 無料' : `手数料 ${b.fee_yen.toLocaleString('ja-JP')}円`));
    }
    panel.appendChild(h('h3', {}, `${label}が来庁する場合`));
    if (facts.length) panel.appendChild(h('p', { class: 'chips' }, facts));

    const items = b.items || [];
    const visits = [...new Set(items.map((it) => it.visit || 1))];
    for (const v of visits) {
      if (visits.length > 1) panel.appendChild(h('h4', {}, `${v}回目の来庁`));
      panel.appendChild(h('ul', { class: 'bring-list', dataset: { testid: `bring-items-${key}` } },
        items.filter((it) => (it.visit || 1) === v).map((it) => h('li', {},
          h('span', { class: 'bring-text' }, it.text),
          it.id_classes && it.id_classes.length
            ? h('span', { class: 'id-classes' }, `（本人確認書類の区分: ${it.id_classes.join('・')}）`) : null))));
    }
    if (b.notes && b.notes.length) {
      panel.appendChild(h('ul', { class: 'note-list' }, b.notes.map((n) => h('li', {}, n))));
    }
    return panel;
  }

  // ---- office ------------------------------------------------------------

  function renderOffice(o) {
    const t = o.today || {};
    $('#office-name').textContent = o.name || t.office || '';
    const todayEl = clear($('#office-today'));
    if (t.date) {
      const when = `本日 ${withWeekday(t.date, t.wareki, t.weekday)}`;
      if (t.open) {
        todayEl.append(when, '：', h('strong', { class: 'open' }, '開庁'), ` ${hoursText(t.hours)}`);
      } else {
        const why = CLOSED_REASON[t.reason] || '';
        const detail = t.detail ? `（${t.detail}）` : '';
        todayEl.append(when, '：', h('strong', { class: 'closed' }, '閉庁'), why ? ` ${why}${detail}` : detail);
        if (t.next_open) todayEl.append(`。次の開庁日は ${withWeekday(t.next_open)} です。`);
      }
    }
    const list = clear($('#open-days'));
    let days = o.open_days || [];
    if (!Array.isArray(days)) days = days.days || [];
    for (const d of days) {
      list.appendChild(h('li', {},
        h('span', { class: 'od-date' }, withWeekday(d.date, d.wareki, d.weekday)),
        h('span', { class: 'od-hours' }, hoursText(d.hours))));
    }
    if (!days.length) list.appendChild(h('li', {}, '開庁日の情報がありません。'));
  }

  // ---- reservations ------------------------------------------------------

  function renderReservable(r, w) {
    const el = clear($('#reservable'));
    if (!r) { el.appendChild(h('p', {}, '予約の情報がありません。')); return; }
    el.dataset.bookable = r.bookable ? 'true' : 'false';
    if (r.bookable) {
      el.appendChild(h('p', { class: 'reserve-yes' }, h('strong', {}, 'いま来庁予約ができます。')));
      el.appendChild(h('p', {}, `予約できる来庁日: ${JPKI.dateBoth(r.first)} から ${JPKI.dateBoth(r.last)} までの開庁日`));
      el.appendChild(h('p', { class: 'help' }, '来庁日の前日17時まで予約できます。予約なしで来庁できる窓口もあります。'));
    } else if (r.opens_on) {
      el.appendChild(h('p', { class: 'reserve-no' }, h('strong', {}, 'まだ予約できません。')));
      el.appendChild(h('p', {}, `予約の受付は ${JPKI.dateBoth(r.opens_on)} から始まります（更新手続ができる期間の初日）。`));
    } else {
      el.appendChild(h('p', { class: 'reserve-no' }, h('strong', {}, '現在、予約できる日がありません。')));
      el.appendChild(h('p', {}, r.message || '窓口にお問い合わせください。'));
    }
  }

  // ---- start ---------------------------------------------------------------

  syncMode();
  const params = new URLSearchParams(location.search);
  if (params.get('expires')) {
    $('#expires').value = params.get('expires');
    run(false);
  } else if (params.get('birth') && params.get('issued')) {
    form.querySelector('input[value=birth_issued]').checked = true;
    syncMode();
    $('#birth').value = params.get('birth');
    $('#issued').value = params.get('issued');
    run(false);
  }
})();

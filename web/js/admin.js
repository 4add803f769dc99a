// The admin page (admin.html): the chart of certificates expiring per month,
// the monthly expiry notices (start a run, watch it, suspend, resume), CRL
// publication, OCSP refresh and staff accounts. The chart is an SVG
// built here (no library): one <rect data-month="YYYY-MM" data-kind=...>
// per bar, sign and auth side by side.
'use strict';

(function () {
  const { h, svg, clear, $, api, labels } = window.JPKI;

  let session = null;

  JPKI.setupLogin({
    onLogin(s) {
      session = s;
      JPKI.applyRole(s.role);
      $('#not-admin').hidden = JPKI.roleAtLeast(s.role, 'admin');
      loadChart();
      if (JPKI.roleAtLeast(s.role, 'supervisor')) loadNotices();
      if (JPKI.roleAtLeast(s.role, 'admin')) loadStaff();
    },
    onLogout() {
      session = null;
      clear($('#chart'));
      clear($('#chart-table'));
      clear($('#staff-table'));
      clear($('#crl-result'));
      clear($('#notice-months'));
      clear($('#notice-runs'));
      clear($('#notice-files'));
      $('#notice-files-box').hidden = true;
      stopPolling();
      $('#ocsp-result').textContent = '';
      $('#staff-result').textContent = '';
    },
  });

  // ---- chart -------------------------------------------------------------

  async function loadChart() {
    const box = clear($('#chart'));
    box.appendChild(h('p', { class: 'help' }, '読み込んでいます…'));
    try {
      const data = await api('GET', '/api/v1/stats/expiring', null, { months: 24 });
      clear(box);
      box.appendChild(drawChart(data.months || []));
      fillTable(data.months || []);
    } catch (e) {
      clear(box);
      if (!e.authHandled) JPKI.showError(e);
    }
  }

  // A "nice" axis: 0..max in about 5 steps of 1, 2 or 5 × 10^k.
  function niceTicks(max) {
    if (max <= 0) return { top: 5, step: 1 };
    const raw = max / 5;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
    const st = Math.max(1, step);
    return { top: Math.ceil(max / st) * st, step: st };
  }

  const SERIES = [
    { key: 'sign', label: '署名用電子証明書', cls: 'bar-sign', color: '#1f5fa8' },
    { key: 'auth', label: '利用者証明用電子証明書', cls: 'bar-auth', color: '#d97706' },
  ];

  function monthLabel(m) { return m.replace('-', '/'); }

  function drawChart(months) {
    const W = 960, H = 400;
    const M = { left: 64, right: 16, top: 72, bottom: 64 };
    const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
    const max = Math.max(0, ...months.map((m) => Math.max(m.sign || 0, m.auth || 0)));
    const { top, step } = niceTicks(max);
    const y = (v) => M.top + ph - (v / top) * ph;
    const n = Math.max(1, months.length);
    const gw = pw / n;
    const bw = Math.max(2, gw * 0.36);

    const title = '今後24か月の有効期限到来件数';
    const root = svg('svg', {
      class: 'chart-svg', viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-labelledby': 'chart-svg-title chart-svg-desc', 'data-testid': 'expiry-chart',
      preserveAspectRatio: 'xMidYMid meet',
    });
    root.appendChild(svg('title', { id: 'chart-svg-title', text: title }));
    const total = (k) => months.reduce((a, m) => a + (m[k] || 0), 0);
    root.appendChild(svg('desc', {
      id: 'chart-svg-desc',
      text: `${months.length ? monthLabel(months[0].month) : ''}から${months.length}か月。署名用 合計${total('sign')}件、利用者証明用 合計${total('auth')}件。`,
    }));
    root.appendChild(svg('text', { x: M.left, y: 28, class: 'chart-title', text: title }));

    // Legend (top right).
    const legend = svg('g', { class: 'chart-legend', transform: `translate(${W - M.right - 380}, 44)` });
    SERIES.forEach((s, i) => {
      const x = i * 200;
      legend.appendChild(svg('rect', { x, y: -11, width: 14, height: 14, class: s.cls, fill: s.color }));
      legend.appendChild(svg('text', { x: x + 20, y: 1, class: 'chart-legend-text', text: s.label }));
    });
    root.appendChild(legend);

    // Y axis: grid lines and tick labels.
    const axis = svg('g', { class: 'chart-axis' });
    for (let v = 0; v <= top + 1e-9; v += step) {
      const yy = y(v);
      axis.appendChild(svg('line', { x1: M.left, x2: W - M.right, y1: yy, y2: yy, class: v === 0 ? 'chart-baseline' : 'chart-grid' }));
      axis.appendChild(svg('line', { x1: M.left - 5, x2: M.left, y1: yy, y2: yy, class: 'chart-tick' }));
      axis.appendChild(svg('text', { x: M.left - 8, y: yy + 4, 'text-anchor': 'end', class: 'chart-tick-label', text: String(v) }));
    }
    axis.appendChild(svg('line', { x1: M.left, x2: M.left, y1: M.top, y2: M.top + ph, class: 'chart-axis-line' }));
    axis.appendChild(svg('text', {
      x: 16, y: M.top + ph / 2, 'text-anchor': 'middle', class: 'chart-axis-title',
      transform: `rotate(-90 16 ${M.top + ph / 2})`, text: '件数',
    }));
    root.appendChild(axis);

    // Bars and month labels.
    const bars = svg('g', { class: 'chart-bars' });
    months.forEach((m, i) => {
      const gx = M.left + i * gw + (gw - 2 * bw) / 2;
      const g = svg('g', { class: 'chart-group', 'data-month': m.month });
      SERIES.forEach((s, j) => {
        const v = m[s.key] || 0;
        const r = svg('rect', {
          x: (gx + j * bw).toFixed(2), y: y(v).toFixed(2), width: bw.toFixed(2),
          height: Math.max(0, M.top + ph - y(v)).toFixed(2),
          class: s.cls, fill: s.color, 'data-month': m.month, 'data-kind': s.key, 'data-count': v,
        });
        r.appendChild(svg('title', { text: `${monthLabel(m.month)} ${s.label}: ${v}件` }));
        g.appendChild(r);
      });
      const lx = M.left + i * gw + gw / 2, ly = M.top + ph + 14;
      g.appendChild(svg('text', {
        x: lx, y: ly, 'text-anchor': 'end', class: 'chart-month-label',
        transform: `rotate(-45 ${lx} ${ly})`, text: monthLabel(m.month),
      }));
      bars.appendChild(g);
    });
    root.appendChild(bars);
    return h('div', { class: 'chart-scroll' }, root);
  }

  function fillTable(months) {
    const t = clear($('#chart-table'));
    t.appendChild(h('thead', {}, h('tr', {}, ['年月', '署名用', '利用者証明用', 'カード'].map((x) => h('th', { scope: 'col' }, x)))));
    t.appendChild(h('tbody', {}, months.map((m) => h('tr', {},
      h('th', { scope: 'row' }, monthLabel(m.month)),
      h('td', { class: 'num' }, String(m.sign || 0)),
      h('td', { class: 'num' }, String(m.auth || 0)),
      h('td', { class: 'num' }, m.cards === undefined ? '—' : String(m.cards))))));
  }

  // ---- CRL and OCSP ----------------------------------------------------------

  const CRL_KIND = { sign: '署名用', auth: '利用者証明用' };

  $('#crl-publish').addEventListener('click', (ev) => JPKI.busy(ev.currentTarget, async () => {
    const data = await api('POST', '/api/v1/crl/publish');
    const crls = data.crls || [];
    const box = clear($('#crl-result'));
    box.appendChild(h('p', { role: 'status', dataset: { testid: 'crl-status' } }, `CRLを${crls.length}件発行しました。`));
    box.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', dataset: { testid: 'crl-table' } },
      h('thead', {}, h('tr', {}, ['種類', '範囲', 'CRL番号', '発行日時', '次回発行予定', '失効件数', 'サイズ'].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, crls.map((c) => h('tr', { dataset: { testid: 'crl-row' } },
        h('td', {}, CRL_KIND[c.kind] || c.kind),
        h('td', {}, c.shard ? `市区町村 ${c.shard}` : '全体'),
        h('td', { class: 'num' }, String(c.number)),
        h('td', {}, JPKI.instant(c.this_update)),
        h('td', {}, JPKI.instant(c.next_update)),
        h('td', { class: 'num' }, String(c.entries)),
        h('td', { class: 'num' }, `${Number(c.bytes).toLocaleString('ja-JP')} バイト`)))))));
  }));

  $('#ocsp-refresh').addEventListener('click', (ev) => JPKI.busy(ev.currentTarget, async () => {
    $('#ocsp-result').textContent = '';
    const data = await api('POST', '/api/v1/ocsp/refresh');
    $('#ocsp-result').textContent = `OCSP応答を${data.signed}件署名しました。`;
  }));

  // ---- expiry notices ------------------------------------------------------

  const MONTH_STATE = { not_sent: '未作成', unfinished: '未完了', done: '作成済み' };
  let pollTimer = null;

  function stopPolling() {
    if (pollTimer) clearTimeout(pollTimer);
    pollTimer = null;
  }

  function monthJa(m) {
    const [y, mo] = m.split('-');
    return `${y}年${Number(mo)}月`;
  }

  async function loadNotices() {
    try {
      renderNotices(await api('GET', '/api/v1/notices/status'));
    } catch (e) {
      if (!e.authHandled) JPKI.showError(e);
    }
  }

  function renderNotices(st) {
    const sus = st.suspension;
    $('#notice-suspension').textContent = sus.suspended
      ? `発送は停止中です（${JPKI.instant(sus.since)}、${sus.by}${sus.reason ? '：' + sus.reason : ''}）。`
      : '発送は有効です。';
    $('#notice-suspend').hidden = sus.suspended;
    $('#notice-resume').hidden = !sus.suspended;
    $('#notice-start').disabled = sus.suspended;

    const t = clear($('#notice-months'));
    t.appendChild(h('thead', {}, h('tr', {}, ['有効期限の月', '状態', '印刷済み', '取消', '最新の処理'].map((x) => h('th', { scope: 'col' }, x)))));
    t.appendChild(h('tbody', {}, st.months.map((m) => h('tr', { dataset: { testid: 'notice-month-row', month: m.expiring, state: m.state } },
      h('th', { scope: 'row' }, monthJa(m.expiring) + (m.due ? '（今月の発送分）' : '')),
      h('td', {}, MONTH_STATE[m.state] || m.state),
      h('td', { class: 'num' }, String(m.printed)),
      h('td', { class: 'num' }, String(m.cancelled)),
      h('td', { class: 'num' }, m.last_run ? String(m.last_run) : '—')))));

    const sel = $('#notice-month');
    const keep = sel.value;
    clear(sel);
    st.months.forEach((m) => sel.appendChild(h('option', { value: m.expiring }, monthJa(m.expiring) + (m.due ? '（既定）' : ''))));
    sel.value = keep && st.months.some((m) => m.expiring === keep) ? keep : st.due;

    const admin = session && JPKI.roleAtLeast(session.role, 'admin');
    const r = clear($('#notice-runs'));
    r.appendChild(h('thead', {}, h('tr', {}, ['番号', '対象月', '作成日', '状態', '件数', '印刷済み', '取消', '実行者', ...(admin ? ['ファイル'] : [])].map((x) => h('th', { scope: 'col' }, x)))));
    r.appendChild(h('tbody', {}, st.runs.slice(0, 12).map((x) => h('tr', { dataset: { testid: 'notice-run-row', run: String(x.id) } },
      h('td', { class: 'num' }, String(x.id)),
      h('td', {}, monthJa(x.expiring)),
      h('td', {}, x.run_on),
      h('td', {}, x.state === 'done' ? '完了' : `作成中 ${x.rendered}/${x.notices}`),
      h('td', { class: 'num' }, String(x.notices)),
      h('td', { class: 'num' }, String(x.printed)),
      h('td', { class: 'num' }, String(x.cancelled)),
      h('td', {}, x.actor),
      ...(admin ? [h('td', {}, x.state === 'done'
        ? h('button', { type: 'button', class: 'btn btn-small', dataset: { testid: 'notice-files-open' }, onclick: (ev) => JPKI.busy(ev.currentTarget, () => showFiles(x.id)) }, '表示')
        : '—')] : [])))));
    showCurrent(st.current);
  }

  const FILE_SERIES = { municipal: 'お知らせ（予約ID・照会書兼回答書）', jlis: '有効期限通知書', manifest: '発送一覧（CSV）', summary: '処理の概要（JSON）' };

  function size(n) {
    if (n == null) return '見つかりません（移動または削除されています）';
    if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
    return `${Math.max(1, Math.round(n / 1024))} KB`;
  }

  // A finished run's files: one download link each (the server audits it).
  async function showFiles(id) {
    const run = await api('GET', `/api/v1/notices/runs/${id}`);
    $('#notice-files-title').textContent = `印刷用ファイル（処理${run.id}・${monthJa(run.expiring)}分）`;
    const list = clear($('#notice-files'));
    run.files.forEach((f) => {
      const what = `${FILE_SERIES[f.series] || f.series}${f.letters ? `・${f.letters}通・${f.pages}頁` : ''}・${size(f.bytes)}`;
      list.appendChild(h('li', { dataset: { testid: 'notice-file', name: f.name } },
        f.bytes == null ? h('span', {}, f.name) : h('a', { href: f.url, download: `notice-run${run.id}-${f.name}` }, f.name),
        h('span', { class: 'help' }, `（${what}）`)));
    });
    $('#notice-files-box').hidden = false;
  }

  // The run this jpkid started: a progress bar while it runs, then the result.
  function showCurrent(cur) {
    const box = $('#notice-progress-box');
    if (!cur) { box.hidden = true; return; }
    box.hidden = false;
    const bar = $('#notice-progress');
    bar.max = Math.max(1, cur.total);
    bar.value = cur.done;
    const text = $('#notice-progress-text');
    if (cur.state === 'running') {
      text.textContent = `${monthJa(cur.expiring)}分を作成中：${cur.done} / ${cur.total} 通`;
      stopPolling();
      pollTimer = setTimeout(loadNotices, 1000);
    } else if (cur.state === 'failed') {
      text.textContent = `${monthJa(cur.expiring)}分の作成は完了しませんでした：${cur.error.message}`;
    } else {
      text.textContent = `${monthJa(cur.expiring)}分の作成が完了しました（処理${cur.run}、${cur.total} 通）。`;
    }
  }

  $('#notice-dry').addEventListener('click', (ev) => JPKI.busy(ev.currentTarget, async () => {
    const d = await api('POST', '/api/v1/notices/runs', { expiring: $('#notice-month').value, dry_run: true });
    $('#notice-result').textContent = `${monthJa(d.expiring)}分：${d.notices}通（電子証明書 ${d.by_kind.cert}、カード ${d.by_kind.card}）。期限切れのため対象外 ${d.expired_before}件。`;
  }));

  $('#notice-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    JPKI.busy(ev.submitter, async () => {
      $('#notice-result').textContent = '';
      const d = await api('POST', '/api/v1/notices/runs', { expiring: $('#notice-month').value });
      showCurrent(d.current);
      await loadNotices();
    });
  });

  $('#notice-suspend').addEventListener('click', (ev) => JPKI.busy(ev.currentTarget, async () => {
    await api('POST', '/api/v1/notices/suspend', { reason: '' });
    $('#notice-result').textContent = '発送を停止しました。';
    await loadNotices();
  }));

  $('#notice-resume').addEventListener('click', (ev) => JPKI.busy(ev.currentTarget, async () => {
    await api('POST', '/api/v1/notices/resume');
    $('#notice-result').textContent = '発送を再開しました。停止中の月は「作成を開始」で追って作成できます。';
    await loadNotices();
  }));

  // ---- staff -----------------------------------------------------------------

  async function loadStaff() {
    try {
      const data = await api('GET', '/api/v1/staff');
      renderStaff(data.staff || []);
    } catch (e) {
      if (!e.authHandled) JPKI.showError(e);
    }
  }

  function renderStaff(staff) {
    const t = clear($('#staff-table'));
    t.appendChild(h('thead', {}, h('tr', {}, ['ユーザー名', '権限', '状態', '作成日時', '最終ログイン', ''].map((x) => h('th', { scope: 'col' }, x)))));
    t.appendChild(h('tbody', {}, staff.map((s) => h('tr', { dataset: { testid: 'staff-row', user: s.user } },
      h('td', {}, s.user),
      h('td', {}, labels.role[s.role] || s.role),
      h('td', {}, s.disabled ? h('span', { class: 'badge badge-expired' }, '無効') : h('span', { class: 'badge badge-open' }, '有効')),
      h('td', {}, JPKI.instant(s.created_at)),
      h('td', {}, s.last_login ? JPKI.instant(s.last_login) : '—'),
      h('td', {}, !s.disabled && !(session && session.user === s.user) ? disableButton(s.user) : null)))));
  }

  // Two-step button: the first click asks, the second disables.
  function disableButton(user) {
    let armed = false;
    const b = h('button', { type: 'button', class: 'btn btn-small btn-danger', dataset: { testid: 'staff-disable' } }, '無効にする');
    b.addEventListener('click', () => {
      if (!armed) {
        armed = true;
        b.textContent = `${user} を無効にする（確認）`;
        setTimeout(() => { armed = false; b.textContent = '無効にする'; }, 5000);
        return;
      }
      JPKI.busy(b, async () => {
        await api('POST', `/api/v1/staff/${encodeURIComponent(user)}/disable`);
        $('#staff-result').textContent = `${user} を無効にしました。`;
        await loadStaff();
      });
    });
    return b;
  }

  $('#staff-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const user = $('#staff-user').value.trim();
    const role = $('#staff-role').value;
    const password = $('#staff-password').value;
    if (!user || !password) { JPKI.showError('ユーザー名と初期パスワードを入力してください。'); return; }
    JPKI.busy(ev.submitter, async () => {
      const res = await api('POST', '/api/v1/staff', { user, role, password });
      $('#staff-password').value = '';
      $('#staff-user').value = '';
      JPKI.clearAlert();
      $('#staff-result').textContent = `${res.user}（${labels.role[res.role] || res.role}）を追加しました。`;
      await loadStaff();
    });
  });
})();

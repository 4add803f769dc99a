// The counter terminal (counter.html): log in, find a resident, see their
// card and certificates, and renew, reset a PIN, revoke or record an event.
// Routes and shapes: docs/HTTP-API.md ("Staff API").
'use strict';

(function () {
  const { h, clear, $, api, labels } = window.JPKI;

  let current = null;      // the resident detail shown: {resident, cards, certificates, renewal}
  let session = null;
  let renewPad = null;
  let resetPad = null;
  let revokeSerial = null;

  const auth = JPKI.setupLogin({
    onLogin(s) {
      session = s;
      JPKI.applyRole(s.role);
      $('#search-q').focus();
    },
    onLogout() {
      session = null;
      current = null;
      clear($('#search-results'));
      $('#search-status').textContent = '';
      $('#detail').hidden = true;
      closePanels();
      hideResult();
    },
  });

  // ---- search --------------------------------------------------------------

  $('#search-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    JPKI.clearAlert();
    const q = $('#search-q').value.trim();
    const status = $('#search-status');
    if (!q) { status.textContent = '検索する文字を入力してください。'; return; }
    if (!/^\d+$/.test(q) && [...q].length < 2) {
      status.textContent = '氏名・フリガナは2文字以上で検索してください。';
      return;
    }
    const btn = ev.submitter || $('#search-form button[type=submit]');
    status.textContent = '検索しています…';
    const data = await JPKI.busy(btn, () => api('GET', '/api/v1/residents', null, { q, limit: 50 }));
    if (!data) { status.textContent = ''; return; }
    renderResults(data);
  });

  function renderResults(data) {
    const list = clear($('#search-results'));
    const rs = data.residents || [];
    $('#search-status').textContent = rs.length === 0 ? '該当する住民はいません。'
      : `${rs.length}件${data.truncated ? '（一部のみ表示。条件を絞ってください）' : ''}`;
    for (const r of rs) {
      list.appendChild(h('li', {},
        h('button', {
          type: 'button', class: 'result-item', dataset: { testid: 'result-item', id: r.id },
          onclick: () => openResident(r.id),
        },
        h('span', { class: 'ri-name' }, r.name),
        h('span', { class: 'ri-kana' }, r.kana),
        h('span', { class: 'ri-meta' },
          `住民番号 ${r.id}　${r.birth_wareki || JPKI.wareki(r.birth)}生（${r.age}歳）`),
        h('span', { class: 'ri-addr' }, r.address),
        r.status && r.status !== 'registered'
          ? h('span', { class: 'badge badge-expired' }, labels.residentStatus[r.status] || r.status) : null)));
    }
    if (rs.length === 1) openResident(rs[0].id);
  }

  // ---- resident detail -----------------------------------------------------

  async function openResident(id, keepResult) {
    JPKI.clearAlert();
    if (!keepResult) hideResult();
    closePanels();
    try {
      const d = await api('GET', `/api/v1/residents/${encodeURIComponent(id)}`);
      current = d;
      renderDetail(d);
      for (const b of document.querySelectorAll('.result-item')) {
        b.setAttribute('aria-current', String(b.dataset.id) === String(id) ? 'true' : 'false');
      }
    } catch (e) {
      JPKI.showError(e);
    }
  }

  function dl(pairs) {
    return h('dl', { class: 'facts facts-grid' }, pairs.filter(Boolean).map(([k, v, testid]) =>
      h('div', {}, h('dt', {}, k), h('dd', { dataset: testid ? { testid } : undefined }, v))));
  }

  function stateBadge(state, text) {
    return h('span', { class: `badge badge-${state}`, dataset: { state } }, text || labels.windowState[state] || state);
  }

  function renderDetail(d) {
    const r = d.resident;
    $('#detail').hidden = false;
    $('#detail').dataset.residentId = r.id;
    const body = clear($('#detail-body'));
    body.appendChild(h('p', { class: 'detail-name' },
      h('span', { class: 'name', dataset: { testid: 'resident-name' } }, r.name),
      h('span', { class: 'kana' }, r.kana)));
    body.appendChild(dl([
      ['住民番号', String(r.id), 'resident-id'],
      ['生年月日', `${r.birth_wareki || JPKI.wareki(r.birth)}（${r.birth}）　${r.age}歳`],
      ['性別', labels.sex[r.sex] || String(r.sex)],
      ['住所', `${r.postal_code ? '〒' + r.postal_code + ' ' : ''}${r.address}`],
      ['市区町村コード', r.municipality],
      r.nationality ? ['国籍', r.nationality] : null,
      r.stay_expires ? ['在留期間の満了日', JPKI.dateBoth(r.stay_expires)] : null,
      r.adult_ward ? ['成年被後見人', 'はい（署名用電子証明書は本人の来庁が必要）'] : null,
      ['住民票の状態', `${labels.residentStatus[r.status] || r.status}${r.status_on ? '（' + r.status_on + '）' : ''}`, 'resident-status'],
    ]));

    // Cards.
    body.appendChild(h('h3', {}, 'マイナンバーカード'));
    const cards = d.cards || [];
    if (!cards.length) body.appendChild(h('p', {}, 'カードの記録はありません。'));
    else {
      body.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', dataset: { testid: 'cards-table' } },
        h('thead', {}, h('tr', {}, ['カード番号', '発行日', '有効期限', '状態'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, cards.map((c) => h('tr', { dataset: { serial: c.serial } },
          h('td', { class: 'mono', title: c.serial }, shortSerial(c.serial)),
          h('td', {}, c.issued),
          h('td', {}, JPKI.dateEl(c.expires, c.expires_wareki)),
          h('td', {}, h('span', { class: `badge badge-card-${c.state}` }, labels.cardState[c.state] || c.state),
            c.state_on ? ` ${c.state_on}` : '')))))));
    }

    // Certificates, newest first.
    body.appendChild(h('h3', {}, '電子証明書'));
    const certs = (d.certificates || []).slice().sort((a, b) => (b.issued || '').localeCompare(a.issued || '') || a.kind.localeCompare(b.kind));
    if (!certs.length) body.appendChild(h('p', {}, '電子証明書の記録はありません。'));
    else {
      body.appendChild(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', dataset: { testid: 'certs-table' } },
        h('thead', {}, h('tr', {}, ['種類', 'シリアル番号', '発行日', '有効期限', '状態', '更新手続ができる期間', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, certs.map(certRow)))));
    }

    renderRenewal(d.renewal || {});
    JPKI.applyRole(session && session.role, $('#detail'));
    // Actions that need a registered resident with a card.
    const registered = r.status === 'registered';
    const hasCard = cards.some((c) => c.state === 'active');
    $('#act-renew').disabled = !registered || !hasCard;
    $('#act-pinreset').disabled = !registered || !hasCard;
    $('#act-event').disabled = !registered;
  }

  // Serials are 32 hex digits; tables show the first 8 (the title has all).
  function shortSerial(s) {
    return s && s.length > 12 ? `${s.slice(0, 8)}…` : (s || '');
  }

  function certRow(c) {
    const w = c.window || {};
    const status = h('span', { class: `badge badge-cert-${c.status}` }, labels.certStatus[c.status] || c.status);
    return h('tr', { dataset: { serial: c.serial, kind: c.kind, status: c.status, testid: `cert-row-${c.kind}` } },
      h('th', { scope: 'row' }, labels.kindShort[c.kind] || c.kind),
      h('td', { class: 'mono', title: c.serial }, shortSerial(c.serial)),
      h('td', { class: 'nowrap' }, c.issued),
      h('td', { dataset: { testid: 'cert-expires' } }, JPKI.dateEl(c.expires, c.expires_wareki)),
      h('td', {}, status,
        c.reason ? h('small', { class: 'reason', title: c.reason }, h('br'), labels.reasonShort[c.reason] || c.reason) : null,
        c.revoked_at ? h('small', { class: 'nowrap' }, h('br'), JPKI.instant(c.revoked_at)) : null),
      h('td', { class: 'window-cell' }, w.first && c.status === 'good'
        ? [`${w.first}～`, h('br'), `${w.last} `, stateBadge(w.state)] : '—'),
      h('td', {}, c.status === 'good'
        ? h('button', {
          type: 'button', class: 'btn btn-small btn-danger', 'data-min-role': 'supervisor',
          dataset: { testid: 'action-revoke' }, onclick: () => openRevoke(c),
        }, '失効') : null));
  }

  function renderRenewal(rn) {
    const box = clear($('#renewal-box'));
    box.className = `renewal-box state-${rn.state || 'none'}`;
    box.appendChild(h('h3', {}, '更新の可否'));
    box.appendChild(h('p', { class: 'renewal-state' },
      h('span', { class: `badge badge-${rn.state}`, dataset: { testid: 'renewal-state', state: rn.state || '' } },
        labels.renewalState[rn.state] || rn.state || '—')));
    const pairs = [];
    if (rn.expires) pairs.push(['現在の有効期限', JPKI.dateEl(rn.expires, rn.expires_wareki || null, 'renewal-expires')]);
    if (rn.window_first) {
      pairs.push(['更新手続ができる期間', h('span', {},
        JPKI.dateEl(rn.window_first, rn.window_first_wareki, 'renewal-window-first'), ' から ',
        JPKI.dateEl(rn.window_last, rn.window_last_wareki, 'renewal-window-last'), ' まで')]);
    }
    if (pairs.length) {
      box.appendChild(h('dl', { class: 'facts' }, pairs.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))));
    }
    if (rn.message) box.appendChild(h('p', { class: 'renewal-message', dataset: { testid: 'renewal-message' } }, rn.message));
  }

  // ---- panels --------------------------------------------------------------

  function closePanels() {
    for (const id of ['renew-panel', 'pinreset-panel', 'revoke-panel', 'event-panel']) $(`#${id}`).hidden = true;
    if (renewPad) renewPad.reset();
    if (resetPad) resetPad.reset();
  }

  function hideResult() {
    const el = $('#op-result');
    clear(el);
    el.hidden = true;
  }

  function showPanel(id) {
    closePanels();
    hideResult();
    const p = $(`#${id}`);
    p.hidden = false;
    p.scrollIntoView({ block: 'nearest' });
  }

  // A refusal or error shown plainly under the panels.
  function showRefusal(e) {
    const el = clear($('#op-result'));
    el.className = 'op-result op-error';
    el.hidden = false;
    el.setAttribute('role', 'alert');
    el.appendChild(h('p', { class: 'op-title' }, '手続できませんでした'));
    el.appendChild(h('p', { class: 'op-message', dataset: { testid: 'op-error' } }, e.message || String(e)));
    if (e.code) el.appendChild(h('p', { class: 'alert-code', dataset: { testid: 'op-error-code' } }, `エラーコード: ${e.code}`));
    el.scrollIntoView({ block: 'nearest' });
  }

  function showSuccess(title, nodes) {
    const el = clear($('#op-result'));
    el.className = 'op-result op-ok';
    el.hidden = false;
    el.setAttribute('role', 'status');
    el.appendChild(h('p', { class: 'op-title', dataset: { testid: 'op-ok' } }, title));
    for (const n of nodes || []) if (n) el.appendChild(n);
    el.scrollIntoView({ block: 'nearest' });
  }

  // Operation result: {operation, resident, card, fresh, early, issued:[cert], revoked:[...]}
  function resultNodes(res, before) {
    const nodes = [];
    if (res.fresh) nodes.push(h('p', {}, '有効期限切れのため、新しい電子証明書を発行しました（無料）。'));
    if (res.early) nodes.push(h('p', { class: 'warning' }, '期間前更新のため、有効期限は通常より短くなっています。'));
    const issued = res.issued || [];
    if (issued.length) {
      nodes.push(h('h4', {}, '発行した電子証明書'));
      nodes.push(h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', dataset: { testid: 'issued-table' } },
        h('thead', {}, h('tr', {}, ['種類', 'シリアル番号', '有効期限', '以前の有効期限'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, issued.map((c) => {
          const old = before[c.kind];
          return h('tr', { dataset: { kind: c.kind } },
            h('th', { scope: 'row' }, labels.kind[c.kind] || c.kind),
            h('td', { class: 'mono', title: c.serial }, shortSerial(c.serial)),
            h('td', { dataset: { testid: `new-expires-${c.kind}`, expires: c.expires } },
              h('strong', {}, c.expires_wareki || JPKI.wareki(c.expires)), ` （${c.expires}）`),
            h('td', { dataset: { testid: `old-expires-${c.kind}`, expires: old ? old.expires : '' } },
              old ? `${old.expires_wareki || JPKI.wareki(old.expires)}（${old.expires}）` : '—'));
        })))));
    }
    const revoked = res.revoked || [];
    if (revoked.length) {
      nodes.push(h('h4', {}, '失効した電子証明書'));
      nodes.push(h('ul', { dataset: { testid: 'revoked-list' } }, revoked.map((x) => h('li', {},
        `${labels.kind[x.kind] || x.kind} ${shortSerial(x.serial)}（${labels.reason[x.reason] || x.reason}）`))));
    }
    return nodes;
  }

  // The good (or latest) certificate of each kind on the active card.
  function currentCerts() {
    const out = {};
    if (!current) return out;
    const active = (current.cards || []).find((c) => c.state === 'active');
    for (const c of current.certificates || []) {
      if (active && c.card && c.card !== active.serial) continue;
      const prev = out[c.kind];
      if (!prev || (prev.status !== 'good' && c.status === 'good') ||
          (prev.status === c.status && (c.issued || '') > (prev.issued || ''))) out[c.kind] = c;
    }
    return out;
  }

  // ---- renew -----------------------------------------------------------------

  const PIN_SOURCE_HELP = {
    resident: 'ご本人に、画面のパッドで暗証番号を入力していただいてください。入力した暗証番号は●で表示されます。',
    form: '封をされた照会書兼回答書を開封し、記載された暗証番号を職員が入力してください（キーボードも使えます）。',
  };

  function syncPinSource() {
    const v = document.querySelector('input[name=pin-source]:checked').value;
    $('#pin-source-help').textContent = PIN_SOURCE_HELP[v];
    $('#renew-panel').dataset.pinSource = v;
  }
  for (const r of document.querySelectorAll('input[name=pin-source]')) r.addEventListener('change', syncPinSource);

  function syncSignField() {
    if (!current || !renewPad) return;
    const r = current.resident;
    const certs = currentCerts();
    const under15 = typeof r.age === 'number' && r.age < 15;
    const wardBlocked = r.adult_ward && !$('#renew-ward').checked;
    if (under15) renewPad.setDisabled('sign', true, '15歳未満は署名用電子証明書を発行しません');
    else if (wardBlocked && !certs.sign) renewPad.setDisabled('sign', true, '成年被後見人の本人が来庁した場合のみ');
    else renewPad.setDisabled('sign', false);
  }

  $('#act-renew').addEventListener('click', () => {
    if (!current) return;
    showPanel('renew-panel');
    if (!renewPad) renewPad = new JPKI.PinPad($('#renew-pinpad'), ['sign', 'auth']);
    renewPad.reset();
    const rn = current.renewal || {};
    $('#renew-early').checked = false;
    $('#early-warning').hidden = true;
    $('#renew-early').closest('label').hidden = rn.state !== 'not_yet';
    $('#renew-ward').checked = false;
    $('#renew-ward').closest('label').hidden = !current.resident.adult_ward;
    syncPinSource();
    syncSignField();
    renewPad.select(renewPad.specs.find((s) => !renewPad.disabled[s.key]).key);
  });
  $('#renew-early').addEventListener('change', () => { $('#early-warning').hidden = !$('#renew-early').checked; });
  $('#renew-ward').addEventListener('change', syncSignField);
  $('#renew-cancel').addEventListener('click', () => { closePanels(); });

  $('#renew-submit').addEventListener('click', async (ev) => {
    if (!current) return;
    const certs = currentCerts();
    // The signing password is needed when the card already has a signing
    // certificate; otherwise it may be left empty (auth only).
    const optional = certs.sign ? [] : ['sign'];
    const errs = renewPad.validate(optional);
    if (errs.length) { showRefusal({ message: errs.join(' ') }); return; }
    const rn = current.renewal || {};
    if (rn.state === 'not_yet' && !$('#renew-early').checked) {
      showRefusal({ message: '更新手続ができる期間の前です。期間前更新を行う場合は「期間前更新」にチェックを入れてください（有効期限が短くなります）。', code: 'not_in_window' });
      return;
    }
    const body = {
      pins: renewPad.pins(),
      early: $('#renew-early').checked,
      ward_present: $('#renew-ward').checked,
    };
    const id = current.resident.id;
    const btn = ev.currentTarget;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      const res = await api('POST', `/api/v1/residents/${encodeURIComponent(id)}/renew`, body);
      renewPad.reset();
      $('#renew-panel').hidden = true;
      showSuccess('電子証明書を更新しました', resultNodes(res, certs));
      await openResident(id, true);
    } catch (e) {
      renewPad.reset();
      if (e.authHandled) return;       // the login screen is shown
      showRefusal(e);
    } finally {
      btn.disabled = false;
      btn.removeAttribute('aria-busy');
    }
  });

  // ---- PIN reset ---------------------------------------------------------------

  function syncResetKind() {
    const kind = $('#pinreset-kind').value;
    resetPad.configure([kind], { [kind]: `新しい${JPKI.labels.pinKind[kind].replace(/（.*$/, '')}` });
    resetPad.setDisabled(kind, $('#pinreset-unblock').checked);
  }

  $('#act-pinreset').addEventListener('click', () => {
    if (!current) return;
    showPanel('pinreset-panel');
    if (!resetPad) resetPad = new JPKI.PinPad($('#pinreset-pinpad'), ['auth']);
    $('#pinreset-unblock').checked = false;
    syncResetKind();
  });
  $('#pinreset-kind').addEventListener('change', syncResetKind);
  $('#pinreset-unblock').addEventListener('change', syncResetKind);
  $('#pinreset-cancel').addEventListener('click', () => { closePanels(); });

  $('#pinreset-submit').addEventListener('click', async (ev) => {
    if (!current) return;
    const kind = $('#pinreset-kind').value;
    const unblockOnly = $('#pinreset-unblock').checked;
    const body = { kind };
    if (!unblockOnly) {
      const errs = resetPad.validate();
      if (errs.length) { showRefusal({ message: errs.join(' ') }); return; }
      body.pin = resetPad.pins()[kind];
    }
    const id = current.resident.id;
    await JPKI.busy(ev.currentTarget, async () => {
      try {
        const res = await api('POST', `/api/v1/residents/${encodeURIComponent(id)}/pin-reset`, body);
        resetPad.reset();
        $('#pinreset-panel').hidden = true;
        showSuccess(unblockOnly ? '暗証番号のロックを解除しました' : '暗証番号を初期化しました',
          [h('p', {}, `${labels.pinKind[kind]}${unblockOnly ? '' : 'を新しい暗証番号に変更しました'}。`)].concat(resultNodes(res, {})));
        await openResident(id, true);
      } catch (e) {
        resetPad.reset();
        if (!e.authHandled) showRefusal(e);
      }
    });
  });

  // ---- revoke --------------------------------------------------------------------

  function openRevoke(c) {
    showPanel('revoke-panel');
    revokeSerial = c.serial;
    $('#revoke-target').textContent = `${labels.kind[c.kind] || c.kind}（シリアル番号 ${c.serial}、有効期限 ${JPKI.dateBoth(c.expires, c.expires_wareki)}）`;
    $('#revoke-confirm').checked = false;
  }
  $('#revoke-cancel').addEventListener('click', () => { closePanels(); });

  $('#revoke-submit').addEventListener('click', async (ev) => {
    if (!current || !revokeSerial) return;
    if (!$('#revoke-confirm').checked) { showRefusal({ message: '「上記を確認しました」にチェックを入れてください。' }); return; }
    const id = current.resident.id;
    const serial = revokeSerial;
    await JPKI.busy(ev.currentTarget, async () => {
      try {
        const res = await api('POST', `/api/v1/certificates/${encodeURIComponent(serial)}/revoke`, { reason: $('#revoke-reason').value });
        $('#revoke-panel').hidden = true;
        showSuccess('電子証明書を失効させました', resultNodes(res, {}));
        await openResident(id, true);
      } catch (e) {
        if (!e.authHandled) showRefusal(e);
      }
    });
  });

  // ---- resident events -------------------------------------------------------------

  const EVENT_EFFECT = {
    move: '署名用電子証明書が失効します（記載事項の変更）。',
    rename: '署名用電子証明書が失効します（記載事項の変更）。',
    correct: '署名用電子証明書が失効します（記載事項の変更）。',
    decease: '署名用・利用者証明用の両方の電子証明書が失効し、カードは廃止されます。この操作は取り消せません。',
    remove: '署名用・利用者証明用の両方の電子証明書が失効し、カードは廃止されます。この操作は取り消せません。',
    card_return: 'カードを返納として記録し、両方の電子証明書が失効します。',
    card_lost: 'カードを紛失として記録し、両方の電子証明書が失効します（鍵の危殆化）。',
  };

  function field(id, label, input) {
    return h('div', { class: 'field' }, h('label', { for: id }, label), input);
  }

  function syncEventType() {
    const type = $('#event-type').value;
    const f = clear($('#event-fields'));
    const r = current ? current.resident : {};
    const today = JPKI.todayJst();
    if (type === 'move') {
      f.append(
        field('ev-address', '新しい住所', h('input', { type: 'text', id: 'ev-address', value: '', autocomplete: 'off' })),
        field('ev-postal', '郵便番号（NNN-NNNN）', h('input', { type: 'text', id: 'ev-postal', inputmode: 'numeric', pattern: '\\d{3}-\\d{4}', value: r.postal_code || '' })),
        field('ev-municipality', '市区町村コード', h('input', { type: 'text', id: 'ev-municipality', inputmode: 'numeric', value: r.municipality || '' })));
    } else if (type === 'rename') {
      f.append(
        field('ev-name', '新しい氏名', h('input', { type: 'text', id: 'ev-name', value: r.name || '' })),
        field('ev-kana', '新しいフリガナ（全角カタカナ）', h('input', { type: 'text', id: 'ev-kana', value: r.kana || '' })));
    } else if (type === 'correct') {
      const sex = h('select', { id: 'ev-sex' },
        [['1', '男'], ['2', '女'], ['3', '不明']].map(([v, t]) => h('option', { value: v, selected: String(r.sex) === v }, t)));
      f.append(
        field('ev-birth', '正しい生年月日', h('input', { type: 'date', id: 'ev-birth', value: r.birth || '' })),
        field('ev-sex', '正しい性別', sex));
    } else if (type === 'decease' || type === 'remove') {
      f.append(field('ev-on', type === 'decease' ? '死亡日' : '消除日', h('input', { type: 'date', id: 'ev-on', value: today })));
    }
    $('#event-effect').textContent = EVENT_EFFECT[type] || '';
    $('#event-confirm').checked = false;
  }

  $('#act-event').addEventListener('click', () => {
    if (!current) return;
    showPanel('event-panel');
    syncEventType();
  });
  $('#event-type').addEventListener('change', syncEventType);
  $('#event-cancel').addEventListener('click', () => { closePanels(); });

  $('#event-submit').addEventListener('click', async (ev) => {
    if (!current) return;
    if (!$('#event-confirm').checked) { showRefusal({ message: '「内容を確認しました」にチェックを入れてください。' }); return; }
    const type = $('#event-type').value;
    const body = { type };
    const val = (id) => { const el = $(`#${id}`); return el ? el.value.trim() : ''; };
    if (type === 'move') {
      body.address = val('ev-address');
      if (val('ev-municipality')) body.municipality = val('ev-municipality');
      if (val('ev-postal')) body.postal_code = val('ev-postal');
      if (!body.address) { showRefusal({ message: '新しい住所を入力してください。' }); return; }
      if (!body.municipality) { showRefusal({ message: '市区町村コードを入力してください。' }); return; }
    } else if (type === 'rename') {
      body.name = val('ev-name');
      body.kana = val('ev-kana');
    } else if (type === 'correct') {
      // Only what changes (the register refuses a correction to the same value).
      const r = current.resident;
      const birth = JPKI.normalizeDate(val('ev-birth'));
      const sex = Number(val('ev-sex'));
      if (!birth) { showRefusal({ message: '生年月日を年-月-日で入力してください。' }); return; }
      if (birth !== r.birth) body.birth = birth;
      if (sex !== Number(r.sex)) body.sex = sex;
      if (!body.birth && !body.sex) { showRefusal({ message: '変更する項目がありません。', code: 'no_change' }); return; }
    } else if (type === 'decease' || type === 'remove') {
      body.on = JPKI.normalizeDate(val('ev-on'));
      if (!body.on) { showRefusal({ message: '日付を年-月-日で入力してください。' }); return; }
    }
    const id = current.resident.id;
    await JPKI.busy(ev.currentTarget, async () => {
      try {
        const res = await api('POST', `/api/v1/residents/${encodeURIComponent(id)}/events`, body);
        $('#event-panel').hidden = true;
        showSuccess('届出を登録しました', resultNodes(res, {}));
        await openResident(id, true);
      } catch (e) {
        if (!e.authHandled) showRefusal(e);
      }
    });
  });

  // Expose for debugging in the console.
  window.JPKI.counter = { auth, current: () => current };
})();

// On-screen PIN pad for the counter terminal: large keys usable by mouse
// and touch (and the keyboard), each PIN shown masked as ●. PINs live only
// in this object's memory; nothing is written into an <input>, so the
// browser never offers to save them.
//
// Formats (DOMAIN §3): the signing password is 6-16 of A-Z and 0-9 with
// both letters and digits (clients upper-case it); the other PINs are 4
// digits.
'use strict';

(function () {
  const { h, clear } = window.JPKI;

  const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
  const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

  // Field spec: {key, label, alnum: bool, min, max}
  const SPEC = {
    sign: { key: 'sign', label: '署名用電子証明書のパスワード', hint: '英数字6～16桁', alnum: true, min: 6, max: 16 },
    auth: { key: 'auth', label: '利用者証明用電子証明書の暗証番号', hint: '数字4桁', alnum: false, min: 4, max: 4 },
    juki: { key: 'juki', label: '住民基本台帳用の暗証番号', hint: '数字4桁', alnum: false, min: 4, max: 4 },
    text: { key: 'text', label: '券面事項入力補助用の暗証番号', hint: '数字4桁', alnum: false, min: 4, max: 4 },
  };

  // Checks one PIN against its format; returns a message or null.
  function checkPin(spec, v) {
    if (spec.alnum) {
      if (v.length < spec.min || v.length > spec.max) return `${spec.label}は英数字${spec.min}～${spec.max}桁です（いま${v.length}桁）。`;
      if (!/^[A-Z0-9]+$/.test(v)) return `${spec.label}は英大文字と数字で入力してください。`;
      if (!/[A-Z]/.test(v) || !/[0-9]/.test(v)) return `${spec.label}には英字と数字の両方が必要です。`;
      return null;
    }
    if (!/^[0-9]{4}$/.test(v)) return `${spec.label}は数字4桁です（いま${v.length}桁）。`;
    return null;
  }

  class PinPad {
    // container: element to render into; keys: ['sign', 'auth'] (order of
    // the fields); opts.heading: optional caption.
    constructor(container, keys, opts) {
      this.container = container;
      this.opts = opts || {};
      this.values = {};
      this.disabled = {};
      this.active = null;
      this.configure(keys);
    }

    configure(keys, labels) {
      this.specs = keys.map((k) => Object.assign({}, SPEC[k], labels && labels[k] ? { label: labels[k] } : {}));
      this.values = {};
      this.disabled = {};
      for (const s of this.specs) this.values[s.key] = '';
      this.active = this.specs.length ? this.specs[0].key : null;
      this.render();
    }

    render() {
      const c = clear(this.container);
      const root = h('div', { class: 'pinpad', dataset: { testid: 'pinpad' } });
      this.root = root;

      // The PIN displays: one per field, click to make it the target.
      const fields = h('div', { class: 'pin-fields' });
      this.displayEls = {};
      for (const s of this.specs) {
        const dots = h('span', { class: 'pin-dots', 'aria-hidden': 'true', dataset: { testid: `pin-dots-${s.key}` } });
        const count = h('span', { class: 'pin-count', dataset: { testid: `pin-count-${s.key}` } });
        const btn = h('button', {
          type: 'button', class: 'pin-display', 'aria-pressed': 'false',
          dataset: { testid: `pin-display-${s.key}`, key: s.key },
          onclick: () => this.select(s.key),
          onkeydown: (ev) => this.onKey(ev),
        }, h('span', { class: 'pin-label' }, s.label, h('small', {}, `（${s.hint}）`)), dots, count);
        this.displayEls[s.key] = { btn, dots, count };
        fields.appendChild(btn);
      }
      root.appendChild(fields);

      // Digit keys (3x3 + 0), then the editing keys.
      const digits = h('div', { class: 'pad-digits', role: 'group', 'aria-label': '数字' });
      for (const d of DIGITS) {
        digits.appendChild(h('button', {
          type: 'button', class: `pad-key${d === '0' ? ' pad-zero' : ''}`,
          dataset: { testid: `pinpad-key-${d}` }, onclick: () => this.press(d),
        }, d));
      }
      digits.appendChild(h('button', {
        type: 'button', class: 'pad-key pad-fn', dataset: { testid: 'pinpad-backspace' },
        'aria-label': '1文字消す', onclick: () => this.backspace(),
      }, '訂正'));
      digits.appendChild(h('button', {
        type: 'button', class: 'pad-key pad-fn', dataset: { testid: 'pinpad-clear' },
        'aria-label': 'すべて消す', onclick: () => this.clearActive(),
      }, '全消去'));

      // Letter keys, shown only for the signing password.
      const letters = h('div', { class: 'pad-letters', role: 'group', 'aria-label': '英字' });
      for (const l of LETTERS) {
        letters.appendChild(h('button', {
          type: 'button', class: 'pad-key pad-letter',
          dataset: { testid: `pinpad-key-${l}` }, onclick: () => this.press(l),
        }, l));
      }
      this.lettersEl = letters;
      root.appendChild(h('div', { class: 'pad-keys' }, digits, letters));
      this.statusEl = h('p', { class: 'pin-status', 'aria-live': 'polite', dataset: { testid: 'pin-status' } });
      root.appendChild(this.statusEl);
      c.appendChild(root);
      this.refresh();
    }

    select(key) {
      if (this.disabled[key]) return;
      this.active = key;
      this.refresh();
      const d = this.displayEls[key];
      if (d && document.activeElement !== d.btn) d.btn.focus({ preventScroll: true });
    }

    spec(key) { return this.specs.find((s) => s.key === key); }

    press(ch) {
      const s = this.spec(this.active);
      if (!s || this.disabled[s.key]) return;
      if (!s.alnum && !/[0-9]/.test(ch)) return;
      const v = this.values[s.key];
      if (v.length >= s.max) { this.say(`${s.label}は${s.max}桁までです。`); return; }
      this.values[s.key] = v + ch;
      // A fixed-length PIN that is complete moves on to the next empty field.
      if (!s.alnum && this.values[s.key].length === s.max) {
        const next = this.specs.find((x) => x.key !== s.key && !this.disabled[x.key] && !this.values[x.key]);
        if (next) this.active = next.key;
      }
      this.say('');
      this.refresh();
    }

    backspace() {
      const k = this.active;
      if (!k) return;
      this.values[k] = this.values[k].slice(0, -1);
      this.refresh();
    }

    clearActive() {
      const k = this.active;
      if (!k) return;
      this.values[k] = '';
      this.refresh();
    }

    onKey(ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (/^[0-9a-zA-Z]$/.test(ev.key)) {
        ev.preventDefault();
        this.press(ev.key.toUpperCase());
      } else if (ev.key === 'Backspace') {
        ev.preventDefault();
        this.backspace();
      } else if (ev.key === 'Delete' || ev.key === 'Escape') {
        ev.preventDefault();
        this.clearActive();
      }
    }

    setDisabled(key, off, why) {
      this.disabled[key] = !!off;
      if (off) this.values[key] = '';
      const d = this.displayEls[key];
      if (d) {
        d.btn.disabled = !!off;
        d.btn.title = off ? (why || '') : '';
      }
      if (off && this.active === key) {
        const next = this.specs.find((s) => !this.disabled[s.key]);
        this.active = next ? next.key : null;
      }
      this.refresh();
    }

    say(text) { if (this.statusEl) this.statusEl.textContent = text; }

    refresh() {
      for (const s of this.specs) {
        const d = this.displayEls[s.key];
        if (!d) continue;
        const v = this.values[s.key];
        d.dots.textContent = v ? '●'.repeat(v.length) : '';
        d.count.textContent = this.disabled[s.key] ? '入力不要' : `${v.length}桁`;
        const on = s.key === this.active;
        d.btn.setAttribute('aria-pressed', on ? 'true' : 'false');
        d.btn.classList.toggle('active', on);
      }
      const s = this.spec(this.active);
      const letters = !!(s && s.alnum);
      this.lettersEl.hidden = !letters;
      for (const b of this.root.querySelectorAll('.pad-key')) {
        b.disabled = !s || (!letters && b.classList.contains('pad-letter'));
      }
    }

    // {sign: 'ABC123', auth: '1234'} of the enabled fields that have a value.
    pins() {
      const out = {};
      for (const s of this.specs) {
        if (!this.disabled[s.key] && this.values[s.key]) out[s.key] = this.values[s.key];
      }
      return out;
    }

    // Format errors of the enabled fields (all required unless optional[]).
    validate(optional) {
      const errs = [];
      for (const s of this.specs) {
        if (this.disabled[s.key]) continue;
        const v = this.values[s.key];
        if (!v) {
          if (!(optional || []).includes(s.key)) errs.push(`${s.label}を入力してください。`);
          continue;
        }
        const e = checkPin(s, v);
        if (e) errs.push(e);
      }
      return errs;
    }

    reset() {
      for (const s of this.specs) this.values[s.key] = '';
      const first = this.specs.find((s) => !this.disabled[s.key]);
      this.active = first ? first.key : null;
      this.say('');
      this.refresh();
    }
  }

  window.JPKI.PinPad = PinPad;
  window.JPKI.checkPin = (key, v) => checkPin(SPEC[key], v);
})();

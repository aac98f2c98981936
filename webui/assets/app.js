// qvm-remote-webui: the live view.  Read-only; no framework, no network
// beyond this server.  Log text only ever reaches the page through
// textContent, never as markup.
'use strict';

(function () {
  const MAX_ROWS = 5000;          // lines kept in the page
  const CATEGORIES = ['INFO', 'EXEC', 'CMD', 'AUTH-OK', 'AUTH-FAIL',
    'AUTH-DENY', 'REJECT', 'OUT', 'ERR', 'DONE', 'DONE-FAIL', 'ERROR',
    'TIMEOUT', 'TRUNC', 'DRY', 'POLICY', 'CANCEL', 'INTERRUPTED'];
  const CAT_RE = /^[A-Z][A-Z0-9-]{0,14}$/;

  const $ = (id) => document.getElementById(id);
  const logEl = $('log');
  const reEl = $('f-re');
  const vmEl = $('f-vm');
  const catsEl = $('f-cats');
  const followEl = $('follow');
  const countEl = $('count');

  const rows = [];                 // {el, cat, vm, text, n}
  const vms = new Set();
  const filter = { re: null, reText: '', vm: '', cats: new Set() };
  let paused = false;
  let held = [];                   // events that came while paused
  let chain = null;
  let lastSummary = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function catClass(cat) {
    return CAT_RE.test(cat || '') ? 'cat-' + cat : 'cat-other';
  }

  // ---- filters, and the URL that carries them ---------------------------

  function readUrl() {
    const q = new URLSearchParams(location.search);
    filter.reText = q.get('re') || '';
    filter.vm = q.get('vm') || '';
    filter.cats = new Set((q.get('cat') || '').split(',')
      .filter((c) => CAT_RE.test(c)));
    reEl.value = filter.reText;
    compileRe();
    if (filter.vm) addVm(filter.vm);
    vmEl.value = filter.vm;
  }

  function writeUrl() {
    const q = new URLSearchParams();
    if (filter.reText) q.set('re', filter.reText);
    if (filter.vm) q.set('vm', filter.vm);
    if (filter.cats.size) q.set('cat', Array.from(filter.cats).join(','));
    const s = q.toString();
    history.replaceState(null, '', s ? '?' + s : location.pathname);
  }

  function compileRe() {
    filter.re = null;
    reEl.classList.remove('invalid');
    reEl.title = '';
    if (!filter.reText) return;
    try {
      filter.re = new RegExp(filter.reText, 'i');
    } catch (e) {
      reEl.classList.add('invalid');
      reEl.title = 'not a valid regular expression: ' + e.message;
    }
  }

  function matches(r) {
    if (filter.vm && r.vm !== filter.vm) return false;
    if (filter.cats.size && !filter.cats.has(r.cat)) return false;
    if (filter.re && !filter.re.test(r.text)) return false;
    return true;
  }

  function applyFilters() {
    let shown = 0;
    for (const r of rows) {
      const ok = r.mark || matches(r);
      r.el.hidden = !ok;
      if (ok && !r.mark) shown++;
    }
    updateCount(shown);
    writeUrl();
    if (!paused) scrollToEnd();
  }

  function updateCount(shown) {
    if (shown === undefined) {
      shown = 0;
      for (const r of rows) if (!r.mark && !r.el.hidden) shown++;
    }
    const total = rows.filter((r) => !r.mark).length;
    let t = 'showing ' + shown + ' of ' + total + ' lines';
    if (held.length) t += ' (' + held.length + ' new while paused)';
    countEl.textContent = t;
  }

  function buildCats() {
    for (const c of CATEGORIES) {
      const b = el('button', 'chip ' + catClass(c), c);
      b.type = 'button';
      b.dataset.cat = c;
      b.setAttribute('aria-pressed', filter.cats.has(c) ? 'true' : 'false');
      b.addEventListener('click', () => {
        if (filter.cats.has(c)) filter.cats.delete(c);
        else filter.cats.add(c);
        b.setAttribute('aria-pressed', filter.cats.has(c) ? 'true' : 'false');
        applyFilters();
      });
      catsEl.append(b);
    }
  }

  function addVm(vm) {
    if (!vm || vms.has(vm)) return;
    vms.add(vm);
    const opts = Array.from(vmEl.options).slice(1);
    const o = el('option', null, vm);
    o.value = vm;
    const after = opts.find((x) => x.value > vm);
    vmEl.insertBefore(o, after || null);
  }

  // ---- the log ------------------------------------------------------------

  function atEnd() {
    return logEl.scrollHeight - logEl.scrollTop - logEl.clientHeight < 40;
  }

  function scrollToEnd() {
    logEl.scrollTop = logEl.scrollHeight;
  }

  function trim() {
    while (rows.length > MAX_ROWS) rows.shift().el.remove();
  }

  function lineRow(d, fresh) {
    const cat = d.ok ? d.cat : '?';
    const row = el('div', 'row ' + (d.ok ? catClass(d.cat) : 'bad'));
    row.dataset.seq = String(d.seq);
    row.dataset.cat = cat;
    if (d.n) row.dataset.n = String(d.n);
    if (fresh) row.classList.add('fresh');
    const ts = d.ts ? d.ts.replace('T', ' ').replace('Z', '') : '';
    row.append(el('span', 'n', d.n ? String(d.n) : ''), el('span', 'ts', ts),
      el('span', 'cat', cat), el('span', 'vm', d.vm || ''),
      el('span', 'msg', d.msg));
    const r = { el: row, cat: cat, vm: d.vm || '', n: d.n || 0,
      text: (d.ts || '') + ' ' + cat + ' ' + d.msg };
    if (chain && chain.state === 'broken' && r.n === chain.bad)
      row.classList.add('broken');
    addVm(r.vm);
    return r;
  }

  function markRow(d) {
    const row = el('div', 'row mark', '\u2014 ' + d.text + ' \u2014');
    row.dataset.seq = String(d.seq);
    return { el: row, mark: true, cat: '', vm: '', n: 0, text: d.text };
  }

  function show(batch, fresh) {
    const follow = !paused && (atEnd() || fresh === 'initial');
    const frag = document.createDocumentFragment();
    for (const ev of batch) {
      const r = ev.type === 'mark' ? markRow(ev.d) : lineRow(ev.d, fresh === true);
      r.el.hidden = !(r.mark || matches(r));
      rows.push(r);
      frag.append(r.el);
    }
    logEl.append(frag);
    trim();
    updateCount();
    if (follow) scrollToEnd();
  }

  // Lines arrive in bursts (the first view is up to 2000 of them): gather
  // them and add them once per frame.
  let pending = [];
  let scheduled = false;
  let initial = true;
  function queue(type, d) {
    if (paused && !initial) {
      held.push({ type, d });
      updateFollow();
      updateCount();
      return;
    }
    pending.push({ type, d });
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(flush);
    }
  }
  function flush() {
    scheduled = false;
    const batch = pending;
    pending = [];
    show(batch, initial ? 'initial' : true);
  }

  function reset() {
    for (const r of rows) r.el.remove();
    rows.length = 0;
    pending = [];
    held = [];
    initial = true;
    updateCount(0);
  }

  function updateFollow() {
    followEl.setAttribute('aria-pressed', paused ? 'true' : 'false');
    followEl.textContent = paused
      ? 'Resume' + (held.length ? ' (' + held.length + ' new)' : '')
      : 'Pause';
  }

  // ---- chain, summary, status --------------------------------------------

  function showChain(c) {
    chain = c;
    const box = $('chain');
    const text = $('chain-text');
    box.className = 'chain chain-' + (['ok', 'broken', 'empty', 'missing',
      'error', 'checking'].includes(c.state) ? c.state : 'checking');
    switch (c.state) {
      case 'ok':
        text.textContent = 'Hash chain verified: lines 1\u2013' + c.lines;
        break;
      case 'broken':
        text.textContent = 'Hash chain BROKEN at line ' + c.bad +
          (c.bad > 1 ? ' (lines 1\u2013' + (c.bad - 1) + ' verify)' : '') +
          ': the log was edited, truncated or written by something else';
        break;
      case 'empty':
        text.textContent = 'The log is empty';
        break;
      case 'missing':
        text.textContent = 'No log file yet';
        break;
      case 'error':
        text.textContent = 'Cannot check the hash chain: ' + c.error;
        break;
      default:
        text.textContent = 'Checking the hash chain';
    }
    for (const r of rows)
      r.el.classList.toggle('broken', c.state === 'broken' && r.n === c.bad);
  }

  function setBig(id, v) {
    const e = $(id);
    e.textContent = String(v);
    e.classList.toggle('nonzero', v > 0);
  }

  function showSummary(s) {
    lastSummary = s;
    setBig('sum-commands', s.totals.commands);
    setBig('sum-failures', s.totals.failures);
    setBig('sum-rejects', s.totals.rejects);
    setBig('sum-timeouts', s.totals.timeouts);
    setBig('sum-errors', s.totals.errors);
    const list = $('sum-vms');
    list.replaceChildren();
    for (const v of s.vms) {
      if (!v.commands) continue;
      const li = el('li');
      li.append(el('span', 'vmname', v.other ? '(others)' : v.vm),
        el('span', 'num', String(v.commands)));
      list.append(li);
    }
    const note = $('sum-note');
    if (s.horizon > s.now - s.window) {
      note.hidden = false;
      note.textContent = 'Counted from ' + new Date(s.horizon * 1000)
        .toISOString().slice(11, 19) + ' UTC: older lines were not read.';
    } else {
      note.hidden = true;
    }
    drawLatency(s);
  }

  function cssVar(name) {
    return getComputedStyle(document.documentElement)
      .getPropertyValue(name).trim() || '#888';
  }

  // Durations span milliseconds to the timeout's minutes: a log scale
  // from 1 ms to the decade above the slowest command keeps both visible.
  function drawLatency(s) {
    const cv = $('latency');
    const w = 360;
    const h = 84;
    const dpr = window.devicePixelRatio || 1;
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
    const g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 46, r: 6, t: 6, b: 14 };
    const pw = w - pad.l - pad.r;
    const ph = h - pad.t - pad.b;
    let slowest = 1;
    for (const p of s.latency) slowest = Math.max(slowest, p[1]);
    const decades = Math.max(2, Math.ceil(Math.log10(slowest + 1)));
    const yOf = (ms) => pad.t + ph - ph * Math.min(1, Math.log10(Math.max(1, ms)) / decades);
    g.lineWidth = 1;
    g.font = '10px sans-serif';
    g.textBaseline = 'middle';
    g.textAlign = 'right';
    for (let d = 0; d <= decades; d++) {
      const y = Math.round(yOf(Math.pow(10, d))) + 0.5;
      g.strokeStyle = cssVar('--line');
      g.beginPath();
      g.moveTo(pad.l, y);
      g.lineTo(w - pad.r, y);
      g.stroke();
      if (d % (decades > 4 ? 2 : 1) === 0) {
        g.fillStyle = cssVar('--dim');
        g.fillText(d < 3 ? Math.pow(10, d) + ' ms' : Math.pow(10, d - 3) + ' s',
          pad.l - 4, y);
      }
    }
    g.textBaseline = 'bottom';
    g.textAlign = 'left';
    g.fillStyle = cssVar('--dim');
    g.fillText('-60 min', pad.l, h);
    g.textAlign = 'right';
    g.fillText('now', w - pad.r, h);
    const t0 = s.now - s.window;
    for (const p of s.latency) {
      const x = pad.l + pw * Math.min(1, Math.max(0, (p[0] - t0) / s.window));
      g.fillStyle = cssVar('--c-' + (CAT_RE.test(p[2]) ? p[2] : 'other'));
      g.beginPath();
      g.arc(x, yOf(p[1]), 2.8, 0, 2 * Math.PI);
      g.fill();
    }
    $('lat-max').textContent = s.latency.length
      ? '(' + s.latency.length + ' commands, slowest ' + fmtMs(slowest) + ')'
      : '(none yet)';
  }

  function fmtMs(ms) {
    if (ms >= 60000) return (ms / 60000).toFixed(ms >= 600000 ? 0 : 1) + ' min';
    if (ms >= 1000) return (ms / 1000).toFixed(ms >= 10000 ? 0 : 1) + ' s';
    return ms + ' ms';
  }

  function showStatus(st) {
    const c = $('conn');
    if (st.state === 'reading') {
      c.className = 'conn conn-live';
      c.textContent = 'live';
      return;
    }
    c.className = 'conn conn-lost';
    c.textContent = st.state === 'waiting' ? 'waiting for the log file'
      : 'cannot read the log: ' + st.error;
  }

  // ---- the stream ---------------------------------------------------------

  function parse(e) {
    try {
      return JSON.parse(e.data);
    } catch (err) {
      return null;
    }
  }

  function connect() {
    const es = new EventSource('/events');
    const conn = $('conn');
    es.addEventListener('open', () => {
      conn.className = 'conn conn-live';
      conn.textContent = 'live';
    });
    es.addEventListener('error', () => {
      conn.className = 'conn conn-lost';
      conn.textContent = 'reconnecting';
      // EventSource retries by itself, except after an HTTP error (such
      // as 503 when too many pages are open): then start over later
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        setTimeout(connect, 5000);
      }
    });
    es.addEventListener('hello', (e) => {
      const d = parse(e);
      if (!d) return;
      const name = String(d.log).split('/').pop();
      $('logname').textContent = name;
      $('logname').title = String(d.log);
      $('version').textContent = 'qvm-remote ' + d.version;
    });
    es.addEventListener('reset', reset);
    es.addEventListener('line', (e) => {
      const d = parse(e);
      if (d) queue('line', d);
    });
    es.addEventListener('mark', (e) => {
      const d = parse(e);
      if (d) queue('mark', d);
    });
    es.addEventListener('summary', (e) => {
      const d = parse(e);
      if (d) showSummary(d);
      // the summary follows the lines it counts: the first view is done
      if (initial) {
        if (scheduled) flush();
        initial = false;
        document.body.dataset.ready = '1';
      }
    });
    es.addEventListener('chain', (e) => {
      const d = parse(e);
      if (d) showChain(d);
    });
    es.addEventListener('status', (e) => {
      const d = parse(e);
      if (d) showStatus(d);
    });
  }

  // ---- controls -----------------------------------------------------------

  reEl.addEventListener('input', () => {
    filter.reText = reEl.value;
    compileRe();
    applyFilters();
  });
  vmEl.addEventListener('change', () => {
    filter.vm = vmEl.value;
    applyFilters();
  });
  followEl.addEventListener('click', () => {
    paused = !paused;
    if (!paused && held.length) {
      const batch = held;
      held = [];
      show(batch, true);
    }
    updateFollow();
    updateCount();
    if (!paused) scrollToEnd();
  });
  $('clear').addEventListener('click', () => {
    filter.reText = '';
    filter.vm = '';
    filter.cats.clear();
    reEl.value = '';
    vmEl.value = '';
    for (const b of catsEl.children) b.setAttribute('aria-pressed', 'false');
    compileRe();
    applyFilters();
  });
  window.addEventListener('resize', () => {
    if (lastSummary) drawLatency(lastSummary);
  });

  readUrl();
  buildCats();
  updateFollow();
  updateCount(0);
  connect();
})();

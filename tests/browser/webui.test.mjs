// webui.test.mjs - qvm-remote-webui in Debian's headless Chromium.
//
// Starts the real viewer on a free loopback port against a log written by
// webui-loggen (the daemon's own escaping and hash chain), then drives the
// page with playwright-core: it loads, a line appended to the log shows
// within a second, the filters work and live in the URL, a <script>
// command stays text, the hash chain banner follows edits, rotation and
// truncation are survived, and the server refuses forged Host headers and
// every method but GET.  Run by run.sh (make browser).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const top = path.resolve(here, '../..');
const build = process.env.QVMR_BUILD || path.join(top, 'build');
const WEBUI = path.join(build, 'qvm-remote-webui');
const LOGGEN = path.join(build, 'tests', 'webui-loggen');
const SHOTS = path.join(here, 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const REBIND = 'rebind.test';
const T = { timeout: 60000 };   // per test; a loaded machine is slow   // a "DNS rebinding" name mapped to 127.0.0.1

let dir;
let logPath;
let port;
let server;
let serverErr = '';
let context;
let page;
let lines = 0;                  // lines written to the current log file
const dialogs = [];
const pageErrors = [];

// ---- the log ---------------------------------------------------------------

let cidCounter = 0;
function cid(ago) {
  const d = new Date(Date.now() - ago * 1000).toISOString();
  const hex = (0x5eed0000 + ++cidCounter).toString(16).padStart(8, '0');
  return d.slice(0, 10).replace(/-/g, '') + '-' + d.slice(11, 19).replace(/:/g, '') +
    '-4242-' + hex + '9c0ffee51d2c47b3a1e05b7d';
}

// Appends lines through the daemon's audit code: [[secondsAgo, CATEGORY,
// {key: value}], ...]; values are raw, escaped as dom0 escapes them.
function writeLog(entries) {
  const spec = entries.map(([ago, cat, kv]) => {
    const fields = ['-' + ago, cat];
    for (const [k, v] of Object.entries(kv || {})) fields.push(k + '=' + v);
    return fields.join('\t');
  }).join('\n') + '\n';
  const r = spawnSync(LOGGEN, [logPath], { input: spec, encoding: 'utf8' });
  assert.equal(r.status, 0, 'webui-loggen failed: ' + r.stderr);
  // and the lines the writer adds itself (the seal's start, a new file's
  // log-continue line)
  lines = fs.readFileSync(logPath, 'utf8').split('\n').length - 1;
}

// One command's lines as the daemon writes them.
function command(ago, vm, cmd, { exit = 0, ms = 40, cat = 'DONE' } = {}) {
  const id = cid(ago);
  const out = [
    [ago, 'AUTH-OK', { vm, id, reason: 'v2 token' }],
    [ago, 'EXEC', { vm, id, sha256: crypto.createHash('sha256').update(cmd).digest('hex'),
      bytes: String(Buffer.byteLength(cmd)), cmd }],
  ];
  const done = Math.max(0, ago - Math.ceil(ms / 1000));
  if (cat === 'TIMEOUT')
    out.push([done, 'TIMEOUT', { vm, id, exit: '137', ms: String(ms), out: '0', err: '0' }]);
  else
    out.push([done, exit === 0 ? 'DONE' : 'DONE-FAIL',
      { vm, id, exit: String(exit), ms: String(ms), out: '812', err: '0' }]);
  return out;
}

function fixture() {
  const e = [[3550, 'INFO', { action: 'start', transport: '/usr/bin/qrexec-client', poll: 'watch' }],
    [3549, 'INFO', { vm: 'work', action: 'polling' }],
    [3549, 'INFO', { vm: 'dev', action: 'polling' }],
    [3549, 'INFO', { vm: 'build', action: 'polling' }]];
  e.push(...command(3400, 'work', 'qvm-ls --running', { ms: 310 }));
  e.push(...command(3100, 'dev', 'qvm-prefs dev memory 4096', { ms: 120 }));
  e.push(...command(2900, 'build', 'qvm-start build-fedora', { ms: 5200 }));
  e.push(...command(2600, 'work', 'qvm-volume info work:private', { exit: 1, ms: 95 }));
  e.push([2500, 'REJECT', { vm: 'dev', id: cid(2500), reason: 'the command is empty' }]);
  e.push(...command(2300, 'dev', '<script>alert(1)</script>', { ms: 60 }));
  e.push([2100, 'AUTH-FAIL', { vm: 'build', id: cid(2100), reason: 'authentication failed: token mismatch' }]);
  e.push(...command(1900, 'build', 'sudo qubes-dom0-update -y', { cat: 'TIMEOUT', ms: 300000 }));
  e.push([1800, 'AUTH-DENY', { vm: 'untrusted', id: cid(1800), reason: 'this VM is not authorized' }]);
  e.push(...command(1500, 'work', 'qvm-run --pass-io work "df -h"', { ms: 880 }));
  e.push(...command(1200, 'dev', 'qvm-copy-to-vm dev ~/notes.txt', { ms: 1450 }));
  e.push([1100, 'ERROR', { vm: 'build', reason: 'transport call failed', status: '1' }]);
  e.push(...command(900, 'work', 'qvm-shutdown --wait personal', { ms: 2300 }));
  e.push(...command(600, 'dev', 'xl info | grep free_memory', { ms: 75 }));
  e.push(...command(420, 'work', 'qvm-prefs work netvm', { exit: 2, ms: 140 }));
  e.push(...command(200, 'build', 'qvm-ls --format=network', { ms: 390 }));
  e.push(...command(60, 'work', 'qvm-service work cups off', { ms: 210 }));
  return e;
}

// ---- processes and HTTP ----------------------------------------------------

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// A raw request, so the Host header and method are exactly ours.
function request(method, urlPath, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath,
      headers: { Host: '127.0.0.1:' + port, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

async function waitFor(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      // not up yet
    }
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openPage(query = '') {
  await page.goto(`http://127.0.0.1:${port}/${query}`);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
}

function visibleRows() {
  return page.$$eval('#log .row:not(.mark)', (rs) =>
    rs.filter((r) => !r.hidden).map((r) => ({
      cat: r.dataset.cat,
      vm: r.querySelector('.vm').textContent,
      msg: r.querySelector('.msg').textContent,
    })));
}

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, name) });
}

// ---- setup -----------------------------------------------------------------

before(async () => {
  for (const f of [WEBUI, LOGGEN, CHROMIUM])
    assert.ok(fs.existsSync(f), f + ' is missing (make browser builds the first two)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvmr-webui-'));
  logPath = path.join(dir, 'qvm-remote.log');
  fs.mkdirSync(SHOTS, { recursive: true });
  writeLog(fixture());
  port = await freePort();
  server = spawn(WEBUI, ['--port', String(port), '--log', logPath],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr.on('data', (d) => { serverErr += d; });
  await waitFor(async () => (await request('GET', '/api/chain')).status === 200,
    5000, 'the viewer to listen\n' + serverErr);
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
      `--host-resolver-rules=MAP ${REBIND} 127.0.0.1`],
  });
  page = context.pages()[0] || await context.newPage();
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
});

after(async () => {
  if (context) await context.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// ---- the tests ---------------------------------------------------------------

describe('qvm-remote-webui', () => {
  it('serves the page with a strict policy and no CORS', T, async () => {
    const r = await request('GET', '/');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/html/);
    assert.equal(r.headers['content-security-policy'],
      "default-src 'none'; script-src 'self'; style-src 'self'; " +
      "connect-src 'self'; img-src 'self' data:; base-uri 'none'; " +
      "form-action 'none'; frame-ancestors 'none'");
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    for (const h of Object.keys(r.headers))
      assert.ok(!h.startsWith('access-control-'), 'CORS header ' + h);
    const js = await request('GET', '/app.js', { Origin: 'http://evil.example' });
    assert.equal(js.status, 200);
    assert.equal(js.headers['access-control-allow-origin'], undefined);
    assert.equal((await request('GET', '/nope')).status, 404);
  });

  it('loads the log, the summary and the chain status', T, async () => {
    await openPage();
    const rows = await visibleRows();
    assert.equal(rows.length, lines);
    assert.equal(await page.textContent('#chain-text'),
      `Hash chain verified: lines 1\u2013${lines}`);
    assert.match(await page.getAttribute('#chain', 'class'), /chain-ok/);
    // 13 commands ran (EXEC), 2 exited non-zero, 3 refused, 1 timed out
    await waitFor(async () => (await page.textContent('#sum-commands')) === '13',
      3000, 'the summary');
    assert.equal(await page.textContent('#sum-failures'), '2');
    assert.equal(await page.textContent('#sum-rejects'), '3');
    assert.equal(await page.textContent('#sum-timeouts'), '1');
    assert.equal(await page.textContent('#sum-errors'), '1');
    const vmList = await page.$$eval('#sum-vms li', (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(vmList, ['work6', 'dev4', 'build3']);
    assert.match(await page.textContent('#lat-max'), /13 commands/);
    assert.equal(await page.textContent('#logname'), 'qvm-remote.log');
    assert.equal(await page.textContent('#conn'), 'live');
    // colours come from the category
    const colour = await page.$eval('#log .row.cat-DONE-FAIL .cat',
      (e) => getComputedStyle(e).color);
    assert.equal(colour, 'rgb(255, 92, 92)');
    await shot('live.png');
    if (process.env.QVMR_UPDATE_SCREENSHOT === '1')
      fs.copyFileSync(path.join(SHOTS, 'live.png'), path.join(top, 'docs', 'webui.png'));
  });

  it('shows a <script> command as text', T, async () => {
    const msg = await page.$$eval('#log .row.cat-EXEC .msg', (ms) =>
      ms.map((m) => m.textContent).find((t) => t.includes('alert')));
    assert.ok(msg.includes('cmd=<script>alert(1)</script>'), msg);
    // the only script element is the page's own
    assert.deepEqual(await page.$$eval('script', (ss) => ss.map((s) => s.getAttribute('src'))),
      ['/app.js']);
    assert.equal(await page.$$eval('#log img, #log script', (x) => x.length), 0);
    // and the same through the stream, live
    writeLog([[0, 'EXEC', { vm: 'dev', id: cid(0), cmd: '<img src=x onerror=alert(2)>' }]]);
    await page.waitForSelector('#log .row .msg >> text=onerror=alert(2)', { timeout: 2000 });
    assert.equal(await page.$$eval('#log img', (x) => x.length), 0);
    const plain = await request('GET', '/plain');
    assert.ok(plain.body.includes('cmd=&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!plain.body.includes('<script>'));
    assert.deepEqual(dialogs, []);
  });

  it('shows a line appended to the log within a second', T, async () => {
    writeLog(command(0, 'work', 'qvm-ls --live-marker', { ms: 33 }));
    const t0 = Date.now();      // the lines are in the file now
    await page.waitForSelector('#log .row .msg >> text=qvm-ls --live-marker',
      { timeout: 1000 });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
    // the new lines are at the bottom, in the view
    const last = await page.$eval('#log .row:last-child', (r) => r.dataset.cat);
    assert.equal(last, 'DONE');
    // the chain banner follows
    await page.waitForFunction((n) =>
      document.getElementById('chain-text').textContent.endsWith('\u2013' + n), lines,
    { timeout: 4000 });
  });

  it('pauses and resumes following', T, async () => {
    await page.click('#follow');
    assert.equal(await page.textContent('#follow'), 'Resume');
    writeLog([[0, 'INFO', { vm: 'work', action: 'paused-marker' }]]);
    await page.waitForFunction(() =>
      document.getElementById('follow').textContent === 'Resume (1 new)', null,
    { timeout: 2000 });
    assert.equal(await page.$$eval('#log .row .msg', (ms) =>
      ms.filter((m) => m.textContent.includes('paused-marker')).length), 0);
    await page.click('#follow');
    assert.equal(await page.textContent('#follow'), 'Pause');
    await page.waitForSelector('#log .row .msg >> text=paused-marker', { timeout: 1000 });
  });

  it('filters by regex, VM and category, and keeps them in the URL', T, async () => {
    await page.fill('#f-re', 'qvm-(ls|prefs)');
    let rows = await visibleRows();
    assert.ok(rows.length > 0);
    for (const r of rows) assert.match(r.msg, /qvm-(ls|prefs)/i);
    assert.match(page.url(), /\?re=qvm-%28ls%7Cprefs%29$/);

    await page.selectOption('#f-vm', 'work');
    rows = await visibleRows();
    assert.ok(rows.length > 0);
    for (const r of rows) {
      assert.equal(r.vm, 'work');
      assert.match(r.msg, /qvm-(ls|prefs)/i);
    }

    await page.click('#f-cats button[data-cat="EXEC"]');
    rows = await visibleRows();
    assert.deepEqual(rows.map((r) => r.cat), rows.map(() => 'EXEC'));
    assert.equal(rows.length, 3);   // qvm-ls --running, qvm-prefs work netvm, the live one
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('re'), 'qvm-(ls|prefs)');
    assert.equal(url.searchParams.get('vm'), 'work');
    assert.equal(url.searchParams.get('cat'), 'EXEC');
    await shot('filtered.png');

    // a bookmark of the view opens the same view
    await openPage(url.search);
    assert.equal(await page.inputValue('#f-re'), 'qvm-(ls|prefs)');
    assert.equal(await page.inputValue('#f-vm'), 'work');
    assert.equal(await page.getAttribute('#f-cats button[data-cat="EXEC"]', 'aria-pressed'), 'true');
    assert.equal((await visibleRows()).length, 3);

    // a bad regex is shown as such and filters nothing
    await page.click('#clear');
    await page.fill('#f-re', '([');
    assert.match(await page.getAttribute('#f-re', 'class'), /invalid/);
    assert.equal((await visibleRows()).length, lines);
    await page.click('#clear');
    assert.equal(new URL(page.url()).search, '');
  });

  it('refuses a forged Host header', T, async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `localhost:${port + 1}`,
      `127.0.0.1.nip.io:${port}`, `${REBIND}:${port}`]) {
      const r = await request('GET', '/', { Host: host });
      assert.equal(r.status, 421, host);
      // a fixed text: nothing from the request comes back
      assert.equal(r.body, 'this viewer answers only to localhost, 127.0.0.1 or [::1] with its port\n');
    }
    for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`])
      assert.equal((await request('GET', '/', { Host: host })).status, 200, host);
    // a page reached through a name that resolves to 127.0.0.1 (DNS
    // rebinding) gets nothing
    const other = await context.newPage();
    const resp = await other.goto(`http://${REBIND}:${port}/`);
    assert.equal(resp.status(), 421);
    const ev = await other.evaluate(async () => (await fetch('/events')).status);
    assert.equal(ev, 421);
    await other.close();
  });

  it('answers 405 to anything but GET', T, async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
      const r = await request(m, '/');
      assert.equal(r.status, 405, m);
      assert.equal(r.headers.allow, 'GET');
    }
    // from a page of the viewer itself (its console error stays there)
    const other = await context.newPage();
    await other.goto(`http://127.0.0.1:${port}/plain`);
    const fromPage = await other.evaluate(async () =>
      (await fetch('/events', { method: 'POST', body: 'x' })).status);
    assert.equal(fromPage, 405);
    await other.close();
  });

  it('shows a broken hash chain prominently', T, async () => {
    // once the viewer has checked the last line appended (an edit that
    // comes with an append is found by its full read, every 30 s: the
    // unit tests cover that), edit a line in place, as someone covering
    // their tracks would
    await page.waitForFunction((n) => document.getElementById('chain-text')
      .textContent.includes('lines 1\u2013' + n), lines, { timeout: 15000, polling: 100 });
    const text = fs.readFileSync(logPath, 'utf8').split('\n');
    const i = text.findIndex((l) => /qvm-prefs dev memory 4096/.test(l));
    assert.ok(i > 0);
    text[i] = text[i].replace('4096', '8192');
    const st0 = fs.statSync(logPath, { bigint: true });
    fs.writeFileSync(logPath + '.tmp', text.join('\n'));
    fs.copyFileSync(logPath + '.tmp', logPath);     // same file, same size
    const st1 = fs.statSync(logPath, { bigint: true });
    fs.rmSync(logPath + '.tmp');
    // checked within a second or two (hub.c); a loaded CI machine is slow
    await page.waitForFunction(() =>
      document.getElementById('chain').classList.contains('chain-broken'), null,
    { timeout: 15000, polling: 100 }).catch(async (e) => {
      const shown = await page.$eval('#chain', (c) => c.className + ': ' + c.textContent);
      const api = (await request('GET', '/api/chain')).body;
      const f = (st) => `size ${st.size} mtime ${st.mtimeNs} ctime ${st.ctimeNs} ino ${st.ino}`;
      throw new Error(`${e.message}\nthe banner: ${shown}\n/api/chain: ${api}\nbefore: ${f(st0)}\nafter: ${f(st1)}\nthe viewer said: ${serverErr}`);
    });
    assert.ok((await page.textContent('#chain-text')).startsWith(
      `Hash chain BROKEN at line ${i + 1} (lines 1\u2013${i} verify)`));
    const broken = await page.$$eval('#log .row.broken', (rs) => rs.map((r) => r.dataset.n));
    assert.deepEqual(broken, [String(i + 1)]);
    await page.$eval('#log .row.broken', (r) => r.scrollIntoView({ block: 'center' }));
    await shot('chain-broken.png');
  });

  it('follows the log through rotation and truncation', T, async () => {
    fs.renameSync(logPath, logPath + '.1');
    lines = 0;
    writeLog([[0, 'INFO', { action: 'rotation-marker' }]]);
    await page.waitForSelector('#log .row.mark >> text=rotated', { timeout: 3000 });
    await page.waitForSelector('#log .row .msg >> text=action=rotation-marker', { timeout: 3000 });
    await page.waitForFunction((n) =>
      document.getElementById('chain-text').textContent === 'Hash chain verified: lines 1\u2013' + n,
    lines, { timeout: 5000 });

    fs.truncateSync(logPath, 0);
    lines = 0;
    writeLog(command(0, 'work', 'after-truncation-marker', { ms: 12 }));
    await page.waitForSelector('#log .row.mark >> text=truncated', { timeout: 3000 });
    await page.waitForSelector('#log .row .msg >> text=after-truncation-marker', { timeout: 3000 });
    const n = await page.$eval('#log .row:last-child', (r) => r.dataset.n);
    assert.equal(n, String(lines));   // numbering restarts with the file
  });

  it('raised no dialog and no page error', T, () => {
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);
    assert.equal(server.exitCode, null, 'the viewer is still running:\n' + serverErr);
  });

  it('stops cleanly on SIGTERM with a page still streaming', T, async () => {
    const t0 = Date.now();
    const exited = new Promise((r) => server.once('exit', (code, sig) => r({ code, sig })));
    server.kill('SIGTERM');
    const { code, sig } = await exited;
    assert.equal(sig, null);
    assert.equal(code, 0, serverErr);
    assert.ok(Date.now() - t0 < 3000, 'took ' + (Date.now() - t0) + ' ms');
    // nothing from a sanitizer build, no MHD complaint
    assert.doesNotMatch(serverErr, /Sanitizer|runtime error|application error/);
    await page.waitForFunction(() =>
      document.getElementById('conn').textContent === 'reconnecting', null,
    { timeout: 3000 });
  });
});

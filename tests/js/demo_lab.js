// The demo page's own buttons for the built-in modules and the scope attack
// lab, clicked as a user would, with the demo's real moat.json.
// The log keeps only the newest entries that fit; every entry is seen here.
const logged = [];
new MutationObserver((records) => {
  for (const r of records) for (const n of r.addedNodes) logged.push({ ok: n.className === 'ok', text: n.textContent });
}).observe(document.getElementById('log'), { childList: true });

async function click(id) {
  const log = document.getElementById('log');
  const before = log.firstElementChild;
  document.getElementById(id).click();
  for (let i = 0; i < 200 && log.firstElementChild === before; i++) await sleep(10);
  const li = log.firstElementChild;
  return li && li !== before ? { ok: li.className === 'ok', text: li.textContent } : null;
}

document.getElementById('notes-form').requestSubmit();
for (let i = 0; i < 200 && !document.getElementById('log').textContent.includes('fs.writeTextFile'); i++) await sleep(10);
const saved = document.getElementById('log').firstElementChild;
check('demo: notes are written to $APPDATA', !!saved && saved.className === 'ok' && saved.textContent.includes('fs.writeTextFile'), saved && saved.textContent);
const read = await click('notes-read');
check('demo: notes read back', read.ok && read.text.includes('Written atomically'), read);
const list = await click('notes-list');
check('demo: $APPDATA lists notes.txt', list.ok && list.text.includes('notes.txt'), list);
const uname = await click('uname');
check('demo: uname -s runs', uname.ok && uname.text.includes('Linux'), uname);
for (const [id, code] of [['ssh', 'scope_denied'], ['dotdot', 'path_invalid'], ['sh', 'scope_denied'], ['inject', 'scope_denied'], ['open-file', 'scope_denied']]) {
  const r = await click(id);
  check(`demo attack lab: ${id} is refused with ${code}`, !r.ok && r.text.includes(`error: ${code}:`), r);
}
// The core-side attack lab: each is refused, with its code in the log.
for (const [id, code] of [['forge', 'decrypt_failed'], ['empty', 'not_an_envelope'], ['raw', 'not_an_envelope'], ['post', 'not_an_envelope']]) {
  const r = await click(id);
  check(`demo attack lab: ${id} is refused with ${code}`, !!r && !r.ok && r.text.includes(`error: ${code}:`), r);
}
// Every lab button, once more, with the core's count of its code read
// before and shown in its badge after.
async function badge(id) {
  const el = document.getElementById(`count-${id}`);
  const m = /^×(\d+)$/.exec(el.textContent);
  return m && el.dataset.code ? { code: el.dataset.code, n: Number(m[1]) } : null;
}
const labIds = ['forge', 'empty', 'raw', 'post', 'key', 'ssh', 'dotdot', 'sh', 'inject', 'open-file'];
for (const id of labIds) {
  const shown = await badge(id);
  check(`demo attack lab: ${id} shows a count`, !!shown, document.getElementById(`count-${id}`).textContent);
  if (!shown) continue;
  const before = (await invoke('refusal_counts'))[shown.code] || 0;
  document.getElementById(id).click();
  let after = null;
  for (let i = 0; i < 500; i++) {
    after = await badge(id);
    if (after && after.n > before) break;
    await sleep(10);
  }
  check(`demo attack lab: ${id} moves the ${shown.code} count`, !!after && after.n > before, { before, after });
}
// A file picked in the chooser (answered by the harness), hashed in Rust.
document.getElementById('pick').click();
for (let i = 0; i < 300 && !document.getElementById('picked').textContent.includes('SHA-256'); i++) await sleep(10);
check('demo: a picked file is read as bytes and hashed in Rust', document.getElementById('picked').textContent.endsWith('5 bytes, SHA-256 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'), document.getElementById('picked').textContent);
// The push section: the ticker streams, and kill ends it.
document.getElementById('spawn').click();
const $id = (id) => document.getElementById(id);
for (let i = 0; i < 300 && !$id('spawn-output').textContent.includes('tick 1'); i++) await sleep(10);
check('demo: shell.spawn streams the ticker', $id('spawn-output').textContent.startsWith('tick 1'), $id('spawn-output').textContent);
$id('spawn-kill').click();
for (let i = 0; i < 300 && $id('spawn-status').textContent !== 'killed'; i++) await sleep(10);
check('demo: kill ends it', $id('spawn-status').textContent === 'killed', $id('spawn-status').textContent);
const second = logged.find((e) => e.text.startsWith('open a second isolation frame'));
check('demo attack lab: a second isolation frame has no key', !!second && !second.ok && second.text.includes('error: no_key:'), second);
const log = document.getElementById('log');
// The log is fitted again when its box resizes, before the next frame.
await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
check('demo: the log keeps the newest entries that fit, and never overflows',
  logged.length > log.childElementCount && log.childElementCount > 1 && log.scrollHeight <= log.clientHeight &&
  log.firstElementChild.textContent === logged[logged.length - 1].text,
  { logged: logged.length, shown: log.childElementCount, scrollHeight: log.scrollHeight, clientHeight: log.clientHeight });
harness.done();

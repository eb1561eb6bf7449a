// Hooks as apps write them, in a chain: __test__/chain.js (async), the
// demo's validate.js, __test__/merge.js (a naive merge of page data). And
// the frame's realm and key, as the frame really holds them. The test's
// policy lets images, stylesheets and forms aim at ipc://, so the core's
// own refusal of them shows.

// --- An async hook rejects and rewrites like a sync one.
await rejects('async hook: a throw after an await is rejected_by_hook', invoke('echo', { data: 'async-reject' }), 'rejected_by_hook', 'chain: rejected after an await');
await rejects('async hook: false after an await is rejected_by_hook', invoke('echo', { data: 'async-false' }), 'rejected_by_hook');
check('chain: the hooks after an async rewrite get what it returned', (await invoke('echo', { data: 'rewrite:abc' })) === 'chain saw abc');
await rejects('chain: a rewrite into another command is judged by the next hook', invoke('echo', { data: 'to-report:a\0b' }), 'rejected_by_hook', 'NUL');
await rejects('chain: nothing was written by the rewritten call', invoke('read_report'), 'app');

// --- Prototype pollution through a hook that merges page data.
await rejects('merge: a "__proto__" key cannot reach Object.prototype', invoke('echo_json', { value: JSON.parse('{"__proto__": {"writesAllowed": true}}') }), 'rejected_by_hook');
await rejects('merge: nor a "constructor.prototype" path', invoke('echo_json', { value: { constructor: { prototype: { writesAllowed: true } } } }), 'rejected_by_hook');
await rejects('merge: file writes are still off', window.moat.fs.writeTextFile('$APPDATA/polluted.txt', 'x'), 'rejected_by_hook', 'merge: file writes are off');
check('merge: plain preferences still merge', (await invoke('echo_json', { value: { theme: 'dark' } })).theme === 'dark');
let realm = null;
try {
  await invoke('echo', { data: 'report-realm' });
} catch (e) {
  try { realm = JSON.parse(e.message); } catch (_) { realm = e.message; }
}
check('realm: built-in prototypes are frozen before the hooks load', !!realm && realm.objectFrozen && realm.arrayFrozen && realm.promiseFrozen && realm.subtleFrozen, realm);
check('realm: nothing was polluted', !!realm && realm.polluted === false, realm);
check('realm: an Error subclass still names itself, an object still gets its own toString', !!realm && realm.errorName === 'HookError' && realm.ownToString === 'own toString', realm);
const members = await invoke('echo_json', { value: { toString: 1, constructor: 'c', valueOf: false } });
check('arguments named like Object.prototype members arrive as data', members.toString === 1 && members.constructor === 'c' && members.valueOf === false && Object.keys(members).length === 3, JSON.stringify(members));

let rules = null;
try {
  await invoke('echo', { data: 'report-rules' });
} catch (e) {
  try { rules = JSON.parse(e.message); } catch (_) { rules = e.message; }
}
check('rules: a hook cannot eval or compile code', !!rules && rules.eval === 'EvalError' && rules.newFunction === 'EvalError', rules);
check('rules: a hook has no storage', !!rules && rules.localStorage === 'SecurityError' && rules.indexedDB !== 'allowed', rules);
check('rules: a hook cannot reach the page, and window.moat does not exist', !!rules && rules.page === 'SecurityError' && rules.moat === 'undefined', rules);
check('rules: replies and pushes never reach the frame', !!rules && rules.push === 'undefined' && rules.reply === 'undefined', rules);
check('rules: a hook has no network, not even its own folder', !!rules && rules.fetch === 'TypeError', rules);

// --- The key, as the frame holds it (the frame answers `moat:probe` in
// test-harness builds only, with what the key object says about itself).
const frameWin = isolationFrame().contentWindow;
const probe = await new Promise((resolve) => {
  const hear = (ev) => {
    if (ev.source === frameWin && ev.data && ev.data.type === 'probe') {
      window.removeEventListener('message', hear);
      resolve(ev.data);
    }
  };
  window.addEventListener('message', hear);
  frameWin.postMessage({ type: 'moat:probe' }, '*');
  setTimeout(() => resolve(null), 3000);
});
check('key: AES-GCM, 256 bits, for encryption only', !!probe && probe.key === true && probe.algorithm === 'AES-GCM' && probe.length === 256 && probe.usages.join() === 'encrypt', probe);
check('key: imported non-extractable', !!probe && probe.extractable === false, probe);
check('key: exporting it fails with InvalidAccessError', !!probe && probe.exportRaw === 'InvalidAccessError', probe);
check('key: its boot element and text are gone from the frame', !!probe && probe.bootElement === false && probe.bootKey === null, probe);

// --- Subresources aimed at ipc:// that this policy lets through reach the
// core, which refuses them: no Origin header, or a navigation.
const counts = () => invoke('refusal_counts');
const c0 = await counts();
const img = document.createElement('img');
img.src = 'ipc://localhost/1';
const link = document.createElement('link');
link.rel = 'stylesheet';
link.href = 'ipc://localhost/2';
document.body.append(img);
document.head.append(link);
const form = document.createElement('form');
form.method = 'POST';
form.action = 'ipc://localhost/3';
const field = document.createElement('input');
field.name = 'x';
field.value = 'y';
form.append(field);
document.body.append(form);
form.submit();
let c1 = c0;
const moved = (code) => (c1[code] || 0) - (c0[code] || 0);
for (let i = 0; i < 150 && (moved('bad_origin') < 2 || moved('navigation_refused') < 1); i++) {
  await sleep(20);
  c1 = await counts();
}
check('an <img> and a <link> to ipc:// are bad_origin in the core', moved('bad_origin') === 2, { before: c0, after: c1 });
check('a form posted to ipc:// is a refused navigation', moved('navigation_refused') === 1, { before: c0, after: c1 });
check('the page is still the app', location.href.startsWith('app://localhost/'), location.href);
harness.done();

// The settings store from page script: values round-trip and persist, each
// window reaches only the keys its allowlist names, the limits refuse with
// their names, a change is pushed, and the store's file is out of fs reach.
const { store, listen, fs } = window.moat;
// JSON objects have no order: compared with their keys sorted.
const canon = (v) => JSON.stringify(v, (k, x) => (x && typeof x === 'object' && !Array.isArray(x))
  ? Object.fromEntries(Object.keys(x).sort().map((key) => [key, x[key]])) : x);
const until = async (f, ms = 3000) => { for (let t = 0; t < ms && !f(); t += 10) await sleep(10); return f(); };

const before = await store.get('theme');
if (before === null) {
  // The first run: nothing stored yet.
  check('store: a key never set is null', before === null, before);
  const changed = [];
  await listen('moat:store-changed', (e) => changed.push(e.key));
  const value = { mode: 'dark', sizes: [1, 2.5, -3], nested: { ok: true, none: null }, text: 'é ✓ \u2028' };
  await store.set('theme', value);
  check('store: a JSON value round-trips', canon(await store.get('theme')) === canon(value), await store.get('theme'));
  await store.set('window.width', 800);
  await store.set('window.height', 600);
  check('store: a change is pushed to the page with its key',
    await until(() => changed.includes('theme') && changed.includes('window.width')), changed);
  check('store: keys lists what this window may read', JSON.stringify(await store.keys()) === JSON.stringify(['theme', 'window.height', 'window.width']), await store.keys());
  check('store: delete says it was there', (await store.delete('window.height')) === true);
  check('store: and a second time that it was not', (await store.delete('window.height')) === false);
  check('store: a deleted key is null', (await store.get('window.height')) === null);
  await rejects('store: a key not in the allowlist is refused', store.get('token'), 'scope_denied', 'store `token` is not one this window may read');
  await rejects('store: a read-only key cannot be written', store.set('shared.lang', 'fr'), 'scope_denied', 'may write');
  await rejects('store: a read-only key cannot be deleted', store.delete('shared.lang'), 'scope_denied', 'may write');
  await rejects('store: a key shaped like a path is refused', store.set('window.../../x', 1), 'scope_denied');
  await rejects('store: a key with a newline is refused', store.get('window.a\nb'), 'scope_denied');
  await rejects('store: an over-long key is refused by its limit', store.get('window.' + 'k'.repeat(80)), 'limit_exceeded', 'store.maxKeyBytes is 64');
  await rejects('store: an over-large value is refused by its limit', store.set('window.big', 'x'.repeat(70000)), 'limit_exceeded', 'store.maxValueBytes is 65536');
  check('store: the refused value was not stored', (await store.get('window.big')) === null);
  await rejects('store: an unknown argument is refused', invoke('store.set', { key: 'theme', value: 1, extra: 2 }), 'bad_args');
  await rejects('store: its file is out of reach of fs', fs.readTextFile('$APPDATA/.store/store.json'), 'scope_denied');
  check('store: a refused call changed nothing', (await store.get('theme')).mode === 'dark');
} else {
  // The second run, after a restart.
  check('store: values survive a restart', before.mode === 'dark' && before.text === 'é ✓ \u2028', before);
  check('store: and so do the other keys, and the deletions', (await store.get('window.width')) === 800 && (await store.get('window.height')) === null);
}
harness.done();

// Code in the isolation frame (a hook, tests/hooks/escape.js) tries every
// way out of the frame's sandbox; the page stays the app and no window or
// download leaves it (the Rust test reads the log).
const before = location.href;
let attempts = null;
try {
  await invoke('echo', { data: 'escape' });
} catch (e) {
  attempts = e.code === 'rejected_by_hook' ? JSON.parse(e.message.slice(e.message.indexOf('{'))) : e;
}
check('escape: the hook tried every way out', !!attempts && Object.keys(attempts).length === 7, attempts);
for (const k of ['open', 'openNamed']) check(`escape: window.open (${k}) gives no window`, attempts && attempts[k] === 'null', attempts && attempts[k]);
await sleep(1000);
check('escape: the page is still the app and was not navigated', location.href === before && !!window.moat, location.href);
check('escape: calls still work', (await invoke('echo', { data: 'after' })) === 'after');
harness.done();

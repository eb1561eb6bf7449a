// A web content process that dies is replaced: the page loads again with a
// new key, calls work, and nothing of the old page load comes back. The Rust
// test kills the web process when it reads "ready for crash".
if (harness.load === 1) {
  check('before the crash: a call works', (await invoke('echo', { data: 'one' })) === 'one');
  // An envelope sealed under this page load's key, kept where the next
  // page load can find it.
  const att = await connectTo(isolationFrame());
  const sealed = await att.seal('echo', { data: big('sealed before the crash') });
  localStorage.setItem('moat-test-envelope', toB64(sealed.envelope));
  // A call still running when the page dies: its reply must never reach
  // the next page (whose call ids start again at 1).
  invoke('slow', { ms: 1500 }).catch(() => {});
  await sleep(300); // sealed and in the core before the page dies
  check('ready for crash', true, null);
  await sleep(30000);
} else {
  // Calls that stay pending while the old page's slow call finishes.
  const pending = Array.from({ length: 8 }, () => invoke('slow', { ms: 3000 }));
  check('after the crash: a call works under the new key', (await invoke('echo', { data: 'two' })) === 'two');
  const stored = fromB64(localStorage.getItem('moat-test-envelope'));
  directRejects('an envelope sealed before the crash does not open after it', await direct(stored), 'decrypt_failed');
  const results = await Promise.all(pending);
  check('no reply of the old page load settles a call of the new one', results.every((r) => r === 3000), results);
  harness.done();
}

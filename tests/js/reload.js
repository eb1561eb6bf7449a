// Key rotation: an envelope sealed before a reload must not open after it,
// and the new page's calls work (its counter restarts under a new key).
if (harness.load === 1) {
  const att = await connectTo(isolationFrame());
  const s = await att.seal('echo', { data: big('old page') });
  sessionStorage.setItem('old-envelope', toB64(s.envelope));
  check('first load: call works', (await invoke('greet', { name: 'one' })) === 'Hello, one! (from Rust)');
  location.reload();
} else {
  const old = fromB64(sessionStorage.getItem('old-envelope') || '');
  directRejects('envelope from the previous page load is rejected', await direct(old), 'decrypt_failed');
  check('after reload: calls work under the new key', (await invoke('greet', { name: 'two' })) === 'Hello, two! (from Rust)');
  harness.done();
}

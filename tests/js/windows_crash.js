// One window's web process crashes (the Rust test kills it when it reads
// "settings: ready for crash"): that window comes back with a new key, and
// the main window serves calls all along.
const { fs } = window.moat;
const shared = (name) => `$APPDATA/shared/${name}`;

if (harness.window === 'main') {
  await invoke('window.open', { label: 'settings' });
  // Calls until the settings window says it is back.
  let served = 0;
  let failed = null;
  const until = Date.now() + 40000;
  for (;;) {
    try {
      if ((await invoke('echo', { data: 'still here' })) === 'still here') served += 1;
    } catch (e) {
      failed = `${e.code}: ${e.message}`;
    }
    let back = null;
    try { back = await fs.readTextFile(shared('settings-back')); } catch (e) { back = null; }
    if (back !== null || Date.now() > until) break;
    await sleep(50);
  }
  check('main: serves calls while the settings window\'s web process is replaced', served > 5 && failed === null, { served, failed });
  harness.done();
} else if (harness.window === 'settings') {
  if (harness.load === 1) {
    const att = await connectTo(isolationFrame());
    const sealed = await att.seal('greet', { name: big('before the crash') });
    await fs.writeTextFile(shared('settings-envelope'), toB64(sealed.envelope));
    check('settings: ready for crash', true, null);
    await sleep(30000);
  } else {
    check('settings: after its crash a call works under a new key', (await invoke('greet', { name: 'back' })) === 'Hello, back! (from Rust)');
    const old = fromB64(await fs.readTextFile(shared('settings-envelope')));
    directRejects('settings: an envelope sealed before its crash does not open', await direct(old), 'decrypt_failed');
    await fs.writeTextFile(shared('settings-back'), '1');
  }
}

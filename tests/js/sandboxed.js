// The web process in its sandbox on every page load: the Rust test looks
// at the web processes each time the page says "sandbox: look" (first
// load, after a reload, after a crash it causes), and checks a call works.
check('sandbox: a call works', (await invoke('echo', { data: 'in the box' })) === 'in the box');
check('sandbox: look', true, harness.load);
await sleep(800);
if (harness.load === 1) {
  location.reload();
} else if (harness.load === 2) {
  check('ready for crash', true, null);
  await sleep(30000);
} else {
  harness.done();
}

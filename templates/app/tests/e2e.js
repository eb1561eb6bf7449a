// Page script run by Moat's test harness in each of the app's real pages
// (`harness.window` says which), with only what any page script has, plus
// `harness.result` and `harness.done`.
const { invoke, MoatError } = window.moat;

async function refused(name, promise, code) {
  try {
    await promise;
    harness.result(name, false, 'resolved');
  } catch (e) {
    harness.result(name, e instanceof MoatError && e.code === code, e.code);
  }
}

if (harness.window === 'main') {
  harness.result('greet answers through the isolation frame', (await invoke('greet', { name: '  Ada  ' })) === 'Hello, Ada!');
  await refused('the hook refuses an empty name', invoke('greet', { name: '' }), 'rejected_by_hook');
  // The about window checks itself, then closes; every window hears it.
  const closed = new Promise((resolve) => window.moat.listen('moat:window-closed', resolve));
  await invoke('window.open', { label: 'about' });
  harness.result('the about window opens and closes', (await closed).label === 'about');
  harness.done();
} else if (harness.window === 'about') {
  await refused('the about window may not greet', invoke('greet', { name: 'Ada' }), 'not_allowed');
  await invoke('window.close');
}

// Page script run by Moat's test harness in the app's real page, with only
// what any page script has, plus `harness.result` and `harness.done`.
const { invoke, MoatError } = window.moat;

harness.result('greet answers through the isolation frame', (await invoke('greet', { name: '  Ada  ' })) === 'Hello, Ada!');
try {
  await invoke('greet', { name: '' });
  harness.result('the hook refuses an empty name', false, 'resolved');
} catch (e) {
  harness.result('the hook refuses an empty name', e instanceof MoatError && e.code === 'rejected_by_hook', e.code);
}
harness.done();

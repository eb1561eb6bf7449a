// A stream of writes, until the test kills the app with SIGKILL.
const { store } = window.moat;
await store.set('theme', { n: 0 });
check('store stream: started', true);
const pad = 'p'.repeat(20000);
for (let n = 1; ; n += 1) {
  await store.set(n % 2 ? 'theme' : 'window.state', { n, pad });
}

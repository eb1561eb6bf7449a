// A later launch brings the running window forward. The test hides the
// window once this says it listens, launches the app again (no argument),
// checks the window is back and focused, and ends with a last link.
let done = false;
window.moat.listen('moat:launch', (a) => { if (a.url === 'moat-demo://done') done = true; });
check('forward: listening', true);
for (let t = 0; t < 50000 && !done; t += 50) await sleep(50);
check('forward: the last launch arrived', done);
harness.done();

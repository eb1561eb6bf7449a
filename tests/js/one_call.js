// One call through the whole path, for tests that look at startup.
check('a call works', (await invoke('echo', { data: 'one' })) === 'one');
harness.done();

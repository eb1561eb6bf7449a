// No Secret Service on the bus: unavailable, never a fallback.
const { secrets } = window.moat;
await rejects('secrets: get with no keyring is unavailable', secrets.get('apiToken'), 'unavailable', 'the keyring is unavailable');
await rejects('secrets: set with no keyring is unavailable', secrets.set('apiToken', 'tok-nowhere'), 'unavailable', 'the keyring is unavailable');
harness.done();

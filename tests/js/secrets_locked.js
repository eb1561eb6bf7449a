// A locked keyring that no prompt can unlock (no display for one):
// unavailable, at once, never a fallback.
const { secrets } = window.moat;
await rejects('secrets: get from a locked keyring is unavailable', secrets.get('apiToken'), 'unavailable', 'the keyring is unavailable');
await rejects('secrets: set into a locked keyring is unavailable', secrets.set('apiToken', 'tok-locked'), 'unavailable', 'the keyring is unavailable');
harness.done();

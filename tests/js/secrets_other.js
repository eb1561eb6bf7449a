// Another app (another identifier) on the same keyring.
const { secrets } = window.moat;
check('secrets: another app does not see the first one\'s secret', (await secrets.get('apiToken')) === null);
check('secrets: nor can it delete it', (await secrets.delete('apiToken')) === false);
harness.done();

// Harness self-test: one pass, one deliberate failure.
check('a passing result', true);
check('a deliberately failing result', false, 'expected to fail');
harness.done();

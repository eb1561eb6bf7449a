// Harness self-test: never calls harness.done(); the timeout must end the run.
check('started', true);

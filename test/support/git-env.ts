/** Environment for tests that commit: a fixed identity, no system git config, and always the embedded ledger. */
export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  // The embedded ledger, whatever the developer's shell exports.
  DATABASE_URL: '',
};

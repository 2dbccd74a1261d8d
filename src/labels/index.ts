export { LabelsError, LABELS_CODES, type LabelsErrorCode } from './labels-error.js';
export { lintLabels, readLabelsFile, isEmojiOnly, GITHUB_LABEL_LIMITS, type LabelSpec, type LintFinding, type LabelsFile } from './labels-file.js';
export { planLabelSync, describeAction, type RepoLabel, type SyncAction } from './sync-plan.js';
export { GitHubLabelsClient, toLabelsError, type GitHubLabelsClientOptions } from './github-labels-client.js';
export { syncLabels, parseRepo, type RepoRef, type SyncOptions, type SyncResult } from './sync-labels.js';

// Public surface of the handoff module: artifacts, store, scope policy, predicate, propose/accept.
export { HandoffError, HANDOFF_CODES } from './handoff-error.js';
export type { HandoffErrorCode } from './handoff-error.js';
export { patchFromWorktree, patchFromFile, treeOfArtifact, PATCH_HEADER, MAX_PATCH_BYTES } from './patch-artifact.js';
export type { PatchArtifact } from './patch-artifact.js';
export { parsePatch } from './parse-patch.js';
export type { ParsedPatch, FileChange, FileStatus, ParseLimits } from './parse-patch.js';
export { ContentStore, DEFAULT_STORE_DIR, isStoreDigest } from './store.js';
export { checkScope, checkPathShape, symlinkEscapes } from './scope-policy.js';
export type { ScopeViolation, ScopeViolationCode } from './scope-policy.js';
export {
  HANDOFF_PREDICATE_TYPE,
  APPLIED_PREDICATE_TYPE,
  handoffPredicateSchema,
  appliedPredicateSchema,
  changedPathSchema,
  parseHandoffPredicate,
  describeProblems,
  MAX_LIFETIME_MS,
  CLOCK_SKEW_MS,
} from './handoff-predicate.js';
export { titleProblem, summaryProblem, branchNameProblem } from './input-rules.js';
export { commitMessage } from './commit-message.js';
export type { HandoffPredicate, AppliedPredicate, ChangedPath, PredicateProblem, PredicateProblemCode, PredicateCheck } from './handoff-predicate.js';
export { makeContext, repositoryIdentity, forgeFor, ACCEPT_STEPS } from './handoff-context.js';
export type { HandoffContext, AcceptStep } from './handoff-context.js';
export { propose, submit, DEFAULT_EXPIRY_MS } from './propose.js';
export type { ProposeOptions, ProposeResult, SubmitOptions } from './propose.js';
export { accept, verifyProposal, PR_LABELS } from './accept.js';
export type { AcceptOptions, AcceptResult, VerificationCheck, VerifyProposalOptions } from './accept.js';
export { listHandoffs, showHandoff, traceHandoff } from './inspect.js';
export type { HandoffView, HandoffTrace, TraceLink } from './inspect.js';
export { LedgerPullRequestStore } from './ledger-pr-store.js';
export { signerForLane, verifyLaneBundle, statementDigestOf, laneOfKind } from './lane-trust.js';
export { proposeRequestShape, handoffIdSchema, isHandoffId, parseDuration, patchBytes } from './request-schemas.js';

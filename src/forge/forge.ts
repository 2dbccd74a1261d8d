import type { RemoteBranchContains } from './git.js';

/**
 * Where branches go and pull requests are opened. A tagged union: `local` is a bare git remote plus
 * pull-request records in a store (the ledger in production); `github` is the GitHub REST API.
 */
export type ForgeTarget =
  | { kind: 'local'; remote: string }
  | { kind: 'github'; owner: string; repo: string; token: string; baseUrl?: string; remote: string; maxRetryWaitSeconds?: number };

export interface PullRequestRef {
  number: number;
  url: string;
  branch: string;
  base: string;
  headSha: string;
  state: 'open' | 'closed' | 'merged';
  /** False when an existing pull request for the branch was found (a re-run). */
  created: boolean;
}

export interface OpenPullRequestInput {
  /** The handoff this pull request carries; local records are keyed by it. */
  handoffId: string;
  /** The lane opening it (recorded). */
  lane: string;
  branch: string;
  base: string;
  headSha: string;
  title: string;
  body: string;
}

/** Operations every forge offers. Each is idempotent, so a re-run after a crash is safe. */
export interface Forge {
  readonly kind: ForgeTarget['kind'];
  /** Human-readable, secret-free description. */
  readonly where: string;
  /** Pushes sha to refs/heads/branch; no-op when already there; never forces. */
  push(repoDir: string, branch: string, sha: string): Promise<{ pushed: boolean }>;
  /**
   * Whether `sha` is `branch`'s tip on the forge or one of its ancestors, judged on the branch as
   * fetched from the forge now (never a local ref). `tip` is null when the forge has no such branch.
   */
  branchContains(repoDir: string, branch: string, sha: string): Promise<RemoteBranchContains>;
  /** Finds the pull request for `branch`, or opens one. */
  openPullRequest(input: OpenPullRequestInput): Promise<PullRequestRef>;
  findPullRequest(branch: string): Promise<PullRequestRef | null>;
  /** Adds labels (existing ones are kept). */
  addLabels(pr: number, labels: string[]): Promise<string[]>;
  /** Comments once per `marker`: a second call with the same marker is a no-op. */
  comment(pr: number, body: string, marker: string): Promise<{ created: boolean }>;
}

/** A pull-request record as the local forge stores it. */
export interface LocalPullRequestRecord {
  handoffId: string;
  lane: string;
  number: number;
  url: string;
  branch: string;
  base: string;
  headSha: string;
  title: string;
  body: string;
  state: 'open' | 'closed' | 'merged';
  labels: string[];
  comments: { marker: string; body: string }[];
}

/**
 * Where the local forge keeps pull-request records. The ledger implements it (pull_requests table);
 * `MemoryPullRequestStore` serves tests. `create` must be atomic: two callers racing on one branch get
 * one record (the loser receives the winner's record).
 */
export interface PullRequestStore {
  findByBranch(branch: string): Promise<LocalPullRequestRecord | null>;
  create(rec: Omit<LocalPullRequestRecord, 'number' | 'url' | 'labels' | 'comments' | 'state'>): Promise<LocalPullRequestRecord>;
  update(number: number, change: { labels?: string[]; comments?: { marker: string; body: string }[] }): Promise<void>;
  get(number: number): Promise<LocalPullRequestRecord | null>;
}

import { describe, expect, it } from 'vitest';
import { useWorkspaces } from './fixture.js';

// kill -9 the accept process right after each step boundary, re-run it, and check the work was done
// exactly once: one branch, one commit on it, one pull request, one pr_opened transition.
const STEPS = ['claimed', 'verified', 'committed', 'applied', 'pushed', 'pr-created', 'labeled', 'attested'] as const;

const { workspace } = useWorkspaces();

describe('accept is crash-safe at every step boundary', () => {
  it.each(STEPS.map((s) => [s]))(
    'killed after %s, re-run finishes exactly once',
    async (step) => {
      const w = workspace();
      w.write('src/app.js', `export const x = '${step}';\n`);
      const p = await w.propose(`crash at ${step}`);
      const crashed = await w.cli(['handoff', 'accept', p.id, '--lane', 'claude', '--json'], { DUALLANE_TEST_HOOKS: '1', DUALLANE_CRASH_AT: step });
      expect(crashed.code).toBe(-1); // killed by SIGKILL: no exit status
      const after = await w.json(['handoff', 'show', p.id]);
      expect(after.data.state).not.toBe('pr_opened');
      // Killed inside the transaction that holds and verifies the proposal: nothing of it remains.
      if (step === 'claimed') expect(after.data.state).toBe('proposed');

      const rerun = await w.json(['handoff', 'accept', '--next', '--lane', 'claude']);
      expect(rerun.r.code).toBe(0);
      expect(rerun.data).toMatchObject({ id: p.id, state: 'pr_opened', resumed: step !== 'claimed', pr: { number: 1 } });
      // A third run is a no-op.
      const third = await w.json(['handoff', 'accept', p.id, '--lane', 'claude']);
      expect(third.data).toMatchObject({ commit: rerun.data.commit, pr: { number: 1 } });

      expect(w.git('branch', '--list', 'lane/*').split('\n').map((s) => s.trim())).toEqual([`lane/claude/${p.id}`]);
      expect(w.git('--git-dir', '.duallane/remote.git', 'for-each-ref', '--format=%(refname)', 'refs/heads/lane/')).toBe(`refs/heads/lane/claude/${p.id}`);
      expect(w.git('rev-list', '--count', `${p.baseCommit}..${rerun.data.branch}`)).toBe('1');
      const list = await w.json(['handoff', 'list']);
      expect(list.data).toHaveLength(1);
      const trace = await w.json(['handoff', 'trace', p.id]);
      expect(trace.data.ok).toBe(true);
      const audit: string = trace.data.chain.find((c: { step: string }) => c.step === 'audit').detail;
      expect(audit.match(/handoff\.pr_opened/g)).toHaveLength(1);
      expect(audit.match(/handoff\.applied/g)).toHaveLength(1);
      expect(audit.match(/handoff\.verified/g)).toHaveLength(1);
      expect(audit.match(/pull_request\.commented/g)).toHaveLength(1);
    },
    400_000,
  );
});

/**
 * The ledger's schema, as an ordered list of migrations. Rules:
 *  - never edit an applied migration (its checksum is recorded; a changed one stops `db migrate`);
 *    add a new version instead;
 *  - SQL must run unchanged on PostgreSQL 15+ and PGlite (no extensions);
 *  - role-specific grants do not belong here (role names come from duallane.yaml): see roles.ts.
 *    Row-level security policies do, because they name no role: they compare a row's lane with
 *    `duallane_current_lane()`, the lane whose role is `current_user`.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The all-zero hash the first audit row chains from. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical content of an audit row, as SQL over a row alias `r`. The sealer (migration 5; the
 * insert trigger before it) hashes it and verify-audit re-reads it from the stored columns, so both see
 * the same bytes. jsonb text output
 * is deterministic for a given value, and the JSON array framing makes field boundaries unambiguous.
 */
export const AUDIT_CONTENT_SQL = (r: string) =>
  `jsonb_build_array(${r}.lane, ${r}.action, ${r}.subject, ${r}.payload, to_char(${r}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text`;

export const HANDOFF_STATES = ['proposed', 'claimed', 'verified', 'applied', 'pr_opened', 'rejected', 'expired'] as const;

const V1 = `
CREATE TABLE duallane_lanes (
  name text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('propose', 'execute')),
  role text NOT NULL UNIQUE
);

-- The lane whose database role is the current role; NULL for administrators.
CREATE FUNCTION duallane_current_lane() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT name FROM public.duallane_lanes WHERE role = current_user $$;

CREATE TABLE handoffs (
  id text PRIMARY KEY,
  state text NOT NULL DEFAULT 'proposed' CHECK (state IN (${HANDOFF_STATES.map((s) => `'${s}'`).join(', ')})),
  proposer_lane text NOT NULL,
  executor_lane text,
  statement_digest text NOT NULL UNIQUE,
  artifact_digest text NOT NULL,
  bundle_path text NOT NULL,
  artifact_path text NOT NULL,
  base_commit text NOT NULL,
  target_branch text NOT NULL,
  title text NOT NULL DEFAULT '',
  nonce text,
  expires_at timestamptz NOT NULL,
  branch text,
  commit_sha text,
  pr_number integer,
  pr_url text,
  reject_reason text,
  meta jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handoffs_pending ON handoffs (created_at, id) WHERE state = 'proposed';

CREATE TABLE consumed (
  statement_digest text NOT NULL UNIQUE,
  nonce text NOT NULL UNIQUE,
  handoff_id text NOT NULL REFERENCES handoffs (id),
  lane text NOT NULL,
  consumed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pull_requests (
  handoff_id text PRIMARY KEY REFERENCES handoffs (id),
  lane text NOT NULL,
  forge text NOT NULL,
  number integer NOT NULL,
  url text NOT NULL,
  branch text NOT NULL,
  head_sha text NOT NULL,
  state text NOT NULL DEFAULT 'open',
  labels jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (forge, number)
);

CREATE TABLE lane_runs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  audit_seq bigint NOT NULL UNIQUE,
  lane text NOT NULL,
  command jsonb NOT NULL,
  exit_code integer,
  started_at timestamptz NOT NULL,
  ended_at timestamptz NOT NULL
);

CREATE TABLE alerts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  severity text NOT NULL DEFAULT 'warning',
  subject text NOT NULL DEFAULT '',
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  fired_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);

-- Append-only, hash-chained. Lanes supply lane/action/subject/payload; the trigger below sets
-- seq, created_at, prev_hash and hash, so a lane cannot choose its place in the chain or forge a hash.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  lane text NOT NULL,
  action text NOT NULL,
  subject text NOT NULL DEFAULT '',
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);

-- The chain head, kept apart from audit_log so deleting the newest row is detectable too.
CREATE TABLE audit_head (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  seq bigint NOT NULL,
  hash text NOT NULL
);

-- SECURITY DEFINER: runs as the schema owner so that any lane can extend the chain while seeing
-- (through RLS) only what it may. search_path is pinned so a lane cannot shadow the functions it calls.
CREATE FUNCTION duallane_audit_chain() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
  v_seq bigint;
  v_hash text;
BEGIN
  -- One appender at a time until commit: the chain is a total order.
  PERFORM pg_advisory_xact_lock(74217301);
  SELECT seq, hash INTO v_seq, v_hash FROM public.audit_head WHERE singleton;
  IF NOT FOUND THEN
    v_seq := 0;
    v_hash := '${GENESIS_HASH}';
  END IF;
  NEW.seq := v_seq + 1;
  NEW.prev_hash := v_hash;
  NEW.created_at := now();
  NEW.hash := encode(sha256(convert_to(NEW.prev_hash || E'\\n' || ${AUDIT_CONTENT_SQL('NEW')}, 'UTF8')), 'hex');
  INSERT INTO public.audit_head (singleton, seq, hash) VALUES (true, NEW.seq, NEW.hash)
    ON CONFLICT (singleton) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION duallane_audit_chain();

CREATE FUNCTION duallane_audit_append_only() RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION duallane_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION duallane_audit_append_only();

-- A lane run is recorded as an audit row (action 'lane.run'); this copies it into lane_runs, so no
-- lane needs any privilege on lane_runs beyond SELECT.
CREATE FUNCTION duallane_lane_run_from_audit() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
BEGIN
  IF NEW.action = 'lane.run' THEN
    INSERT INTO public.lane_runs (audit_seq, lane, command, exit_code, started_at, ended_at)
    VALUES (NEW.seq, NEW.lane, COALESCE(NEW.payload -> 'command', '[]'::jsonb),
            (NEW.payload ->> 'exitCode')::integer,
            (NEW.payload ->> 'startedAt')::timestamptz, (NEW.payload ->> 'endedAt')::timestamptz);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER audit_log_lane_run AFTER INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION duallane_lane_run_from_audit();

-- Row-level security ties rows to the lane that wrote them. Owners (administrators) bypass RLS;
-- lane roles are never owners. Reading is open to every lane: the propose lane reads everything.
ALTER TABLE handoffs ENABLE ROW LEVEL SECURITY;
CREATE POLICY handoffs_read ON handoffs FOR SELECT USING (true);
CREATE POLICY handoffs_propose ON handoffs FOR INSERT
  WITH CHECK (proposer_lane = duallane_current_lane() AND state = 'proposed' AND executor_lane IS NULL);
CREATE POLICY handoffs_execute ON handoffs FOR UPDATE
  USING (executor_lane IS NULL OR executor_lane = duallane_current_lane())
  WITH CHECK (executor_lane = duallane_current_lane());

ALTER TABLE consumed ENABLE ROW LEVEL SECURITY;
CREATE POLICY consumed_read ON consumed FOR SELECT USING (true);
CREATE POLICY consumed_own ON consumed FOR INSERT WITH CHECK (lane = duallane_current_lane());

ALTER TABLE pull_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY pull_requests_read ON pull_requests FOR SELECT USING (true);
CREATE POLICY pull_requests_insert ON pull_requests FOR INSERT WITH CHECK (lane = duallane_current_lane());
CREATE POLICY pull_requests_update ON pull_requests FOR UPDATE
  USING (lane = duallane_current_lane()) WITH CHECK (lane = duallane_current_lane());

ALTER TABLE lane_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY lane_runs_read ON lane_runs FOR SELECT USING (true);

ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
CREATE POLICY alerts_read ON alerts FOR SELECT USING (true);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT USING (true);
CREATE POLICY audit_log_own ON audit_log FOR INSERT WITH CHECK (lane = duallane_current_lane());

ALTER TABLE audit_head ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_head_read ON audit_head FOR SELECT USING (true);
`;

/** Allowed handoff state moves; anything else is refused by a trigger, for owners too. */
export const HANDOFF_TRANSITIONS: readonly (readonly [string, string])[] = [
  ['proposed', 'claimed'],
  ['proposed', 'verified'],
  ['proposed', 'rejected'],
  ['proposed', 'expired'],
  ['claimed', 'verified'],
  ['claimed', 'rejected'],
  ['claimed', 'expired'],
  ['verified', 'applied'],
  ['verified', 'rejected'],
  ['applied', 'pr_opened'],
];

const V2 = `
-- A proposal starts empty-handed: no executor, branch, commit, PR or rejection filled in by its proposer.
DROP POLICY handoffs_propose ON handoffs;
CREATE POLICY handoffs_propose ON handoffs FOR INSERT
  WITH CHECK (proposer_lane = duallane_current_lane() AND state = 'proposed' AND executor_lane IS NULL
              AND branch IS NULL AND commit_sha IS NULL AND pr_number IS NULL AND pr_url IS NULL AND reject_reason IS NULL);

-- States only move forward along HANDOFF_TRANSITIONS, and what a proposal IS never changes.
CREATE FUNCTION duallane_handoff_guard() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.proposer_lane <> OLD.proposer_lane OR NEW.statement_digest <> OLD.statement_digest
     OR NEW.artifact_digest <> OLD.artifact_digest OR NEW.base_commit <> OLD.base_commit OR NEW.created_at <> OLD.created_at THEN
    RAISE EXCEPTION 'handoff %: its identity, digests and base never change', OLD.id USING ERRCODE = '42501';
  END IF;
  IF NEW.state <> OLD.state AND (OLD.state, NEW.state) NOT IN (${HANDOFF_TRANSITIONS.map(([a, b]) => `('${a}', '${b}')`).join(', ')}) THEN
    RAISE EXCEPTION 'handoff % cannot move from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER handoffs_guard BEFORE UPDATE ON handoffs FOR EACH ROW EXECUTE FUNCTION duallane_handoff_guard();
`;

const V3 = `
-- A nonce is single-use from the moment it is proposed: the unique index answers replays at
-- propose time in the INSERT itself, without a lookup before it.
DO $$
DECLARE
  dup text;
BEGIN
  SELECT nonce INTO dup FROM handoffs WHERE nonce IS NOT NULL GROUP BY nonce HAVING count(*) > 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'two recorded proposals share the nonce %: resolve them (one is a replay) before this migration', dup USING ERRCODE = '23505';
  END IF;
END $$;
CREATE UNIQUE INDEX handoffs_nonce_unique ON handoffs (nonce) WHERE nonce IS NOT NULL;

-- The chain head row is now the appenders' lock and is moved in ONE statement (prev_hash keeps the
-- hash it replaced, so RETURNING hands the trigger both). Same chain, same hashes as before; the
-- advisory lock is only taken to create the head for the very first row.
ALTER TABLE audit_head ADD COLUMN prev_hash text;

CREATE OR REPLACE FUNCTION duallane_audit_chain() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
DECLARE
  v_content text;
BEGIN
  NEW.created_at := now();
  v_content := ${AUDIT_CONTENT_SQL('NEW')};
  UPDATE public.audit_head SET seq = seq + 1, prev_hash = hash,
         hash = encode(sha256(convert_to(hash || E'\\n' || v_content, 'UTF8')), 'hex')
   WHERE singleton RETURNING seq, prev_hash, hash INTO NEW.seq, NEW.prev_hash, NEW.hash;
  IF NOT FOUND THEN
    PERFORM pg_advisory_xact_lock(74217301);
    UPDATE public.audit_head SET seq = seq + 1, prev_hash = hash,
           hash = encode(sha256(convert_to(hash || E'\\n' || v_content, 'UTF8')), 'hex')
     WHERE singleton RETURNING seq, prev_hash, hash INTO NEW.seq, NEW.prev_hash, NEW.hash;
    IF NOT FOUND THEN
      IF EXISTS (SELECT 1 FROM public.audit_log) THEN
        RAISE EXCEPTION 'the audit chain head record is missing (run duallane db verify-audit)' USING ERRCODE = 'XX001';
      END IF;
      NEW.seq := 1;
      NEW.prev_hash := '${GENESIS_HASH}';
      NEW.hash := encode(sha256(convert_to(NEW.prev_hash || E'\\n' || v_content, 'UTF8')), 'hex');
      INSERT INTO public.audit_head (singleton, seq, hash, prev_hash) VALUES (true, NEW.seq, NEW.hash, NEW.prev_hash);
    END IF;
  END IF;
  RETURN NEW;
END $$;

-- lane_runs is fed only by lane.run rows: the trigger is not even called for the others.
DROP TRIGGER audit_log_lane_run ON audit_log;
CREATE TRIGGER audit_log_lane_run AFTER INSERT ON audit_log FOR EACH ROW WHEN (NEW.action = 'lane.run')
  EXECUTE FUNCTION duallane_lane_run_from_audit();

-- A local pull request is a whole record: what it merges into, its title and its description.
ALTER TABLE pull_requests ADD COLUMN base text NOT NULL DEFAULT '';
ALTER TABLE pull_requests ADD COLUMN title text NOT NULL DEFAULT '';
ALTER TABLE pull_requests ADD COLUMN body text NOT NULL DEFAULT '';
`;

/**
 * The current lane as a scalar subquery. Policies use it instead of calling duallane_current_lane():
 * a SQL function whose body reads a table is never inlined, so PostgreSQL parsed and planned its body
 * afresh in every statement and ran it per checked row; as a subquery it is planned once with the
 * statement (and cached with a prepared one) and runs once per statement as an InitPlan.
 */
const CURRENT_LANE = '(SELECT l.name FROM public.duallane_lanes l WHERE l.role = current_user)';

const V4 = `
-- Same rules as before; the lane is looked up once per statement instead of once per row.
DROP POLICY handoffs_propose ON handoffs;
CREATE POLICY handoffs_propose ON handoffs FOR INSERT
  WITH CHECK (proposer_lane = ${CURRENT_LANE} AND state = 'proposed' AND executor_lane IS NULL
              AND branch IS NULL AND commit_sha IS NULL AND pr_number IS NULL AND pr_url IS NULL AND reject_reason IS NULL);
DROP POLICY handoffs_execute ON handoffs;
CREATE POLICY handoffs_execute ON handoffs FOR UPDATE
  USING (executor_lane IS NULL OR executor_lane = ${CURRENT_LANE})
  WITH CHECK (executor_lane = ${CURRENT_LANE});
DROP POLICY consumed_own ON consumed;
CREATE POLICY consumed_own ON consumed FOR INSERT WITH CHECK (lane = ${CURRENT_LANE});
DROP POLICY pull_requests_insert ON pull_requests;
CREATE POLICY pull_requests_insert ON pull_requests FOR INSERT WITH CHECK (lane = ${CURRENT_LANE});
DROP POLICY pull_requests_update ON pull_requests;
CREATE POLICY pull_requests_update ON pull_requests FOR UPDATE
  USING (lane = ${CURRENT_LANE}) WITH CHECK (lane = ${CURRENT_LANE});
DROP POLICY audit_log_own ON audit_log;
CREATE POLICY audit_log_own ON audit_log FOR INSERT WITH CHECK (lane = ${CURRENT_LANE});
`;

/** Rows one call of duallane_audit_seal() chains at most; Ledger.sealAudit calls it until fewer come back. */
export const AUDIT_SEAL_BATCH = 5000;

/** WHEN of audit_log_no_update: anything but sealing an unsealed row with its content unchanged. */
const AUDIT_SEALING_ONLY = `(pg_catalog.current_setting('duallane.sealing', true) = 'on' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
         AND NEW.id = OLD.id AND NEW.lane = OLD.lane AND NEW.action = OLD.action AND NEW.subject = OLD.subject
         AND NEW.payload::text = OLD.payload::text AND NEW.created_at = OLD.created_at) IS NOT TRUE`;

/** WHEN of handoffs_guard in migration 5: an update that changes what a proposal is or moves its state off HANDOFF_TRANSITIONS. */
const HANDOFF_GUARD_BROKEN = `(NEW.id = OLD.id AND NEW.proposer_lane = OLD.proposer_lane AND NEW.statement_digest = OLD.statement_digest
         AND NEW.artifact_digest = OLD.artifact_digest AND NEW.base_commit = OLD.base_commit AND NEW.created_at = OLD.created_at
         AND (NEW.state = OLD.state OR (OLD.state, NEW.state) IN (${HANDOFF_TRANSITIONS.map(([a, b]) => `('${a}', '${b}')`).join(', ')}))) IS NOT TRUE`;

/**
 * duallane_audit_seal() as migration 5 created it (`CREATE`, plain join) and as migration 6 replaces
 * it (the UPDATE also names `a.seq IS NULL`, so PostgreSQL reaches the rows through the small
 * audit_log_unsealed index instead of hash-joining the whole log). One text, so the two cannot drift;
 * migration 5's text (and so its checksum) is unchanged.
 */
const auditSealFunction = (create: 'CREATE' | 'CREATE OR REPLACE', unsealedOnly: boolean) => `${create} FUNCTION duallane_audit_seal() RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public SET lock_timeout = '10s'
AS $$
DECLARE
  v_seq bigint;
  v_hash text;
  v_prev text;
  ids bigint[] := '{}';
  seqs bigint[] := '{}';
  prevs text[] := '{}';
  hashes text[] := '{}';
  r record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.audit_log WHERE seq IS NULL) THEN
    RETURN 0;
  END IF;
  SELECT seq, hash INTO v_seq, v_hash FROM public.audit_head WHERE singleton FOR UPDATE;
  IF NOT FOUND THEN
    PERFORM pg_advisory_xact_lock(74217301);
    SELECT seq, hash INTO v_seq, v_hash FROM public.audit_head WHERE singleton FOR UPDATE;
    IF NOT FOUND THEN
      IF EXISTS (SELECT 1 FROM public.audit_log WHERE seq IS NOT NULL) THEN
        RAISE EXCEPTION 'the audit chain head record is missing (run duallane db verify-audit)' USING ERRCODE = 'XX001';
      END IF;
      v_seq := 0;
      v_hash := '${GENESIS_HASH}';
      INSERT INTO public.audit_head (singleton, seq, hash) VALUES (true, v_seq, v_hash);
    END IF;
  END IF;
  FOR r IN SELECT a.id, ${AUDIT_CONTENT_SQL('a')} AS content FROM public.audit_log a
            WHERE a.seq IS NULL ORDER BY a.id LIMIT ${AUDIT_SEAL_BATCH} LOOP
    v_prev := v_hash;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(v_prev || E'\\n' || r.content, 'UTF8')), 'hex');
    ids := ids || r.id;
    seqs := seqs || v_seq;
    prevs := prevs || v_prev;
    hashes := hashes || v_hash;
  END LOOP;
  IF cardinality(ids) = 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('duallane.sealing', 'on', true);
  UPDATE public.audit_log a SET seq = u.seq, prev_hash = u.prev, hash = u.hash
    FROM unnest(ids, seqs, prevs, hashes) AS u(id, seq, prev, hash) WHERE a.id = u.id${unsealedOnly ? ' AND a.seq IS NULL' : ''};
  PERFORM set_config('duallane.sealing', 'off', true);
  UPDATE public.audit_head SET seq = v_seq, hash = v_hash, prev_hash = v_prev WHERE singleton;
  RETURN cardinality(ids);
END $$;
`;

const V5 = `
-- The chain is built after commit instead of inside every writer's transaction. Before, the insert
-- trigger moved the chain head, so every transaction that wrote an audit row held the head's row lock
-- until its commit had been flushed, and all ledger writes were serialised on one lock. Now a writer
-- inserts its row unsealed (no seq, prev_hash or hash) and commits without touching the head;
-- duallane_audit_seal() then chains every committed unsealed row (in id order within a batch, so in
-- commit order across batches) in one short transaction (one flush for the whole batch). Each row
-- still stores its seq, the previous row's hash and sha256(previous hash, its own content), computed
-- as before; verify-audit is unchanged.
ALTER TABLE audit_log ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
ALTER TABLE audit_log ALTER COLUMN seq DROP NOT NULL, ALTER COLUMN prev_hash DROP NOT NULL, ALTER COLUMN hash DROP NOT NULL;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_seq_key UNIQUE (seq);
ALTER TABLE audit_log ADD CONSTRAINT audit_log_sealed_whole
  CHECK ((seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL));
CREATE INDEX audit_log_unsealed ON audit_log (id) WHERE seq IS NULL;

-- A writer (lane or owner) chooses neither the time nor a place in the chain: the columns' defaults
-- (now(), NULL) fill them, and a row that brings its own is refused. The trigger's WHEN is evaluated
-- without calling the function, so well-formed inserts (all of ours) cost no PL/pgSQL call.
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION duallane_audit_chain();
CREATE FUNCTION duallane_audit_refuse_stamp() RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'an audit row gets its time, place and hashes from the ledger, not from its writer' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER audit_log_stamp BEFORE INSERT ON audit_log FOR EACH ROW
  WHEN ((NEW.seq IS NULL AND NEW.prev_hash IS NULL AND NEW.hash IS NULL AND NEW.created_at = pg_catalog.now()) IS NOT TRUE)
  EXECUTE FUNCTION duallane_audit_refuse_stamp();

-- Chains up to ${AUDIT_SEAL_BATCH} committed unsealed rows in id order and moves the head; returns how many.
-- Sealers take the head's row lock first, so they run one at a time and each one's reads (a new
-- snapshot per statement) see everything the previous one sealed. SECURITY DEFINER: the lanes may
-- call it (it only ever chains what is already committed); they cannot UPDATE audit_log themselves.
${auditSealFunction('CREATE', false)}
-- Only sealers (lanes and roles the administrator grants it to) may run it. Lane roles applied before
-- this migration get it here (db roles apply grants it from now on), so upgrading needs no second step.
REVOKE EXECUTE ON FUNCTION duallane_audit_seal() FROM PUBLIC;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT l.role FROM duallane_lanes l JOIN pg_roles p ON p.rolname = l.role LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION duallane_audit_seal() TO %I', r.role);
  END LOOP;
END $$;

-- Still append-only: the one change a row may undergo is being sealed once (seq, prev_hash and hash
-- go from NULL to set), by duallane_audit_seal(), with its content unchanged to the byte (the
-- payload is compared as text: jsonb equality would let 1 become 1.0). Any other UPDATE reaches the
-- refusing function of migration 1; IS NOT TRUE also refuses when a comparison is NULL. Lanes have no
-- UPDATE privilege at all; an owner who forges a seal by hand is named by verify-audit.
DROP TRIGGER audit_log_no_update_delete ON audit_log;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION duallane_audit_append_only();
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW
  WHEN (${AUDIT_SEALING_ONLY})
  EXECUTE FUNCTION duallane_audit_append_only();

-- The state machine guard of migration 2, called only when an update breaks it.
DROP TRIGGER handoffs_guard ON handoffs;
CREATE TRIGGER handoffs_guard BEFORE UPDATE ON handoffs FOR EACH ROW
  WHEN (${HANDOFF_GUARD_BROKEN})
  EXECUTE FUNCTION duallane_handoff_guard();

-- Every audit row's hash is recomputed from its predecessor by verify-audit: a unique index on it adds
-- nothing but one more index entry to write per row.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_hash_key;

-- The pending queue is indexed on a generated flag instead of on state, so that only the move out of
-- 'proposed' touches an index column: verified -> applied -> pr_opened become HOT updates (no index
-- entries written), given room on the page (fillfactor).
ALTER TABLE handoffs ADD COLUMN pending boolean GENERATED ALWAYS AS (state = 'proposed') STORED;
DROP INDEX handoffs_pending;
CREATE INDEX handoffs_pending ON handoffs (created_at, id) WHERE pending;
ALTER TABLE handoffs SET (fillfactor = 70);

-- lane_runs rows carry the run's seq, so they are written when the row is sealed.
DROP TRIGGER audit_log_lane_run ON audit_log;
CREATE TRIGGER audit_log_lane_run AFTER UPDATE ON audit_log FOR EACH ROW
  WHEN (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.action = 'lane.run')
  EXECUTE FUNCTION duallane_lane_run_from_audit();
`;

// Migration 6: less work per handoff write: plans that stay on indexes on a new ledger, fewer index
// entries and no row locks taken for the update guards.
const V6 = `
-- The pending queue's index predicate was a boolean (pending), which PostgreSQL estimates at half the
-- table without statistics: under the execute lanes' row-level security a prepared queue lock planned
-- on a new ledger chose a sequential scan and a sort and kept that plan as the table grew. An equality
-- on a generated column is estimated as selective, so the index wins from the start; it still names
-- no column an applied or pr_opened update changes, so those stay HOT.
DROP INDEX handoffs_pending;
ALTER TABLE handoffs DROP COLUMN pending;
ALTER TABLE handoffs ADD COLUMN queue text GENERATED ALWAYS AS (CASE WHEN state = 'proposed' THEN 'pending' END) STORED;
CREATE INDEX handoffs_queue ON handoffs (created_at, id) WHERE queue = 'pending';

-- Sealing updates only rows that are still unsealed, through audit_log_unsealed (privileges unchanged).
${auditSealFunction('CREATE OR REPLACE', true)}
-- Unsealed rows have no seq: the unique index on it holds only sealed rows (NULLs were never equal, so
-- uniqueness is unchanged), one index entry fewer per written row.
ALTER TABLE audit_log DROP CONSTRAINT audit_log_seq_key;
CREATE UNIQUE INDEX audit_log_seq_key ON audit_log (seq) WHERE seq IS NOT NULL;

-- The two guards of UPDATE fire AFTER the row is written, with the same conditions and functions:
-- the statement still fails and nothing it did survives, but a BEFORE row trigger makes PostgreSQL
-- lock (and WAL-log the lock of) every row before updating it, which an AFTER trigger does not.
DROP TRIGGER audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update AFTER UPDATE ON audit_log FOR EACH ROW
  WHEN (${AUDIT_SEALING_ONLY})
  EXECUTE FUNCTION duallane_audit_append_only();
-- The handoff guard also loses its WHEN (migration 5): PostgreSQL reads a trigger's WHEN back from the
-- catalog and compiles it for every UPDATE statement, which cost more (12 us per statement, measured)
-- than calling the PL/pgSQL guard, whose compiled form is kept per session (4 us).
DROP TRIGGER handoffs_guard ON handoffs;
CREATE TRIGGER handoffs_guard AFTER UPDATE ON handoffs FOR EACH ROW EXECUTE FUNCTION duallane_handoff_guard();`;

// Migration 7: the queue take's plan cannot turn into a scan and a sort of the whole queue.
const V7 = `
-- The oldest pending handoff, locked (FOR UPDATE SKIP LOCKED), for the caller (SECURITY INVOKER: the
-- caller's privileges and row-level security apply; it grants nothing, so it stays PUBLIC). A
-- never-analysed table is sized from its pages when a connection builds its generic plan, and with a
-- queue one or two pages long the cheapest plan for the oldest pending row is a bitmap scan and a
-- sort: a connection that planned then kept that plan while the queue grew to thousands, so every
-- take read and sorted the whole queue (measured: handoffs/s down by half in such runs). Without
-- sorting, the only ordered plan is the walk of handoffs_queue, which stops at the first row it can
-- lock, whatever the table's size or statistics.
CREATE FUNCTION duallane_next_pending() RETURNS SETOF handoffs
  LANGUAGE plpgsql SET search_path = pg_catalog, public SET enable_sort = off
AS $$
BEGIN
  RETURN QUERY SELECT * FROM public.handoffs WHERE queue = 'pending' AND expires_at > now()
    ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED;
END $$;`;

// Migration 8: a handoff's audit rows are found by subject through an index, not by reading the log.
const V8 = `
-- handoff trace and the local forge's pull request comments read one handoff's audit rows
-- (WHERE subject = $1): without an index every such read scanned the whole log, which only grows.
CREATE INDEX audit_log_subject ON audit_log (subject);`;

/** The lane label written by administrators (owners), who are not a lane. */
export const ADMIN_LANE = '@admin';

/**
 * The audit row a handoff's insert or state move gets from the database when its statement wrote
 * none, as PL/pgSQL over NEW (and OLD for a move). The application's own statements write their row
 * in the same statement (found by the probe, so never two); anything else that creates or moves a
 * handoff — a lane role in psql, an owner by hand — is audited here, as the role that did it.
 * A row counts as the statement's when it names the handoff, the action `handoff.<new state>` and
 * this transaction's time: each state is entered at most once per handoff (the transitions form no
 * cycle), and an audit row's time is always its transaction's now() (migration 5).
 */
const auditUnlessWritten = (payload: string) => `IF NOT EXISTS (SELECT 1 FROM public.audit_log a
       WHERE a.subject = NEW.id AND a.action = 'handoff.' || NEW.state AND a.created_at = pg_catalog.now()) THEN
    INSERT INTO public.audit_log (lane, action, subject, payload)
    VALUES (COALESCE((SELECT l.name FROM public.duallane_lanes l WHERE l.role = current_user), '${ADMIN_LANE}'), 'handoff.' || NEW.state, NEW.id,
            jsonb_strip_nulls(${payload} || jsonb_build_object('writtenBy', 'database', 'role', current_user::text)));
  END IF;`;

// Migration 9: no role creates or moves a handoff without its audit row.
const V9 = `
-- The state and identity guard of migration 2, plus: a state move whose statement wrote no
-- handoff.<state> audit row gets one here (the mover's lane, or ${ADMIN_LANE} for an owner; from, to,
-- the columns the move changed; writtenBy 'database' and the database role). SECURITY INVOKER as
-- before: the row is the mover's own, under its privileges and row-level security, so a role that may
-- move a state but not write its audit row is refused the move. Still one AFTER trigger per update,
-- without a WHEN (see migration 6).
CREATE OR REPLACE FUNCTION duallane_handoff_guard() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $$
BEGIN
  IF NEW.id <> OLD.id OR NEW.proposer_lane <> OLD.proposer_lane OR NEW.statement_digest <> OLD.statement_digest
     OR NEW.artifact_digest <> OLD.artifact_digest OR NEW.base_commit <> OLD.base_commit OR NEW.created_at <> OLD.created_at THEN
    RAISE EXCEPTION 'handoff %: its identity, digests and base never change', OLD.id USING ERRCODE = '42501';
  END IF;
  IF NEW.state = OLD.state THEN
    RETURN NULL;
  END IF;
  IF (OLD.state, NEW.state) NOT IN (${HANDOFF_TRANSITIONS.map(([a, b]) => `('${a}', '${b}')`).join(', ')}) THEN
    RAISE EXCEPTION 'handoff % cannot move from % to %', OLD.id, OLD.state, NEW.state USING ERRCODE = '23514';
  END IF;
  ${auditUnlessWritten(`jsonb_build_object('from', jsonb_build_array(OLD.state), 'to', NEW.state,
              'branch', CASE WHEN NEW.branch IS DISTINCT FROM OLD.branch THEN NEW.branch END,
              'commit', CASE WHEN NEW.commit_sha IS DISTINCT FROM OLD.commit_sha THEN NEW.commit_sha END,
              'prNumber', CASE WHEN NEW.pr_number IS DISTINCT FROM OLD.pr_number THEN NEW.pr_number END,
              'prUrl', CASE WHEN NEW.pr_url IS DISTINCT FROM OLD.pr_url THEN NEW.pr_url END,
              'rejectReason', CASE WHEN NEW.reject_reason IS DISTINCT FROM OLD.reject_reason THEN NEW.reject_reason END)`)}
  RETURN NULL;
END $$;

-- A handoff inserted without its handoff.<state> row (a propose lane's plain INSERT) gets one, with
-- the payload the application writes (digests, base, target) and the same two marks.
CREATE FUNCTION duallane_handoff_audit_insert() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
AS $$
BEGIN
  ${auditUnlessWritten(`jsonb_build_object('statementDigest', NEW.statement_digest, 'artifactDigest', NEW.artifact_digest,
              'baseCommit', NEW.base_commit, 'targetBranch', NEW.target_branch)`)}
  RETURN NULL;
END $$;
CREATE TRIGGER handoffs_audit_insert AFTER INSERT ON handoffs FOR EACH ROW EXECUTE FUNCTION duallane_handoff_audit_insert();`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'ledger, lanes and the hash-chained audit log', sql: V1 },
  { version: 2, name: 'handoff state machine guard', sql: V2 },
  { version: 3, name: 'unique proposal nonce; one-statement audit chain head; pull request base, title and body', sql: V3 },
  { version: 4, name: 'row-level security looks the lane up once per statement', sql: V4 },
  { version: 5, name: 'audit rows are chained after commit by duallane_audit_seal(); HOT handoff updates', sql: V5 },
  { version: 6, name: 'pending queue index estimated as selective; sealing updates only unsealed rows; partial seq index; update guards fire after the row', sql: V6 },
  { version: 7, name: 'the queue take walks the queue index whatever the statistics say (duallane_next_pending)', sql: V7 },
  { version: 8, name: "a handoff's audit rows are found through an index on subject", sql: V8 },
  { version: 9, name: 'a handoff created or moved without its audit row gets one from the database', sql: V9 },
];

/** Tables of the current schema, in the order privileges are listed. */
export const LEDGER_TABLES = [
  'duallane_lanes',
  'handoffs',
  'consumed',
  'pull_requests',
  'lane_runs',
  'alerts',
  'audit_log',
  'audit_head',
  'schema_migrations',
] as const;
export type LedgerTable = (typeof LEDGER_TABLES)[number];

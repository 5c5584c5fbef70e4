-- Dashboards: a per-session summary, one activity timeline, and the indexes that keep
-- them fast at 10,000 sessions per user.
--
-- Both views are security_invoker: they read the tables as the caller, so each table's
-- row-level security applies (Supabase's advisor flags security-definer views), and
-- another user's rows are simply not there. pg_graphql reflects a view only with a
-- primary key named in its comment.

-- A draft's hole identifiers, kept beside its IR (Postgres computes them on every insert,
-- whatever door it came by), so a summary counts a session's open holes without walking
-- its IR: the same walk that defaults `ambiguities` (session_graph.ir_hole_identifiers).
alter table public.drafts
  add column hole_ids text[] generated always as (session_graph.ir_hole_identifiers(ir)) stored;

-- A session's open holes (`Session.openHoles`, counted: the current draft's holes that no
-- resolution of the session answers), kept on its row so the stats of thousands of
-- sessions read one column each. After each draft or resolution insert, whatever door it
-- came by, the count is made again from the rows (never adjusted), under the session's
-- lock that the insert already holds. The trigger's function runs as its owner: no client
-- may write the column (authenticated has no UPDATE on it), and it writes only the count,
-- of the session the caller's insert was allowed into.
alter table public.sessions
  add column open_hole_count integer not null default 0 check (open_hole_count >= 0);

create function session_graph.open_hole_count(session_id uuid) returns integer
  language sql stable security invoker parallel safe
  set search_path = ''
begin atomic
  select coalesce((
    select pg_catalog.count(*)
      from (select d.hole_ids from public.drafts d
             where d.session_id = open_hole_count.session_id
             order by d.version desc limit 1) current,
           pg_catalog.unnest(current.hole_ids) hole(id)
     -- the session's answered holes are read once (one index scan), not once per hole
     where hole.id operator(pg_catalog.<>) all (array(
             select x.hole_id from public.resolutions x
              where x.session_id = open_hole_count.session_id))
  ), 0)::integer;
end;

create function session_graph.count_open_holes() returns trigger
  language plpgsql security definer
  set search_path = ''
as $$
declare
  counted integer := session_graph.open_hole_count(new.session_id);
begin
  update public.sessions s set open_hole_count = counted
   where s.id = new.session_id and s.open_hole_count <> counted;
  return null;
end
$$;
revoke all on function session_graph.count_open_holes() from public, anon, authenticated;

create trigger drafts_count_open_holes
  after insert on public.drafts
  for each row execute function session_graph.count_open_holes();
create trigger resolutions_count_open_holes
  after insert on public.resolutions
  for each row execute function session_graph.count_open_holes();

set local session_replication_role = replica;  -- the rows as they are: no guard, no events
update public.sessions s set open_hole_count = session_graph.open_hole_count(s.id);
set local session_replication_role = origin;

-- Per session: its counts and its open holes.
create view public.session_summary with (security_invoker = true) as
select s.id,
       s.user_id,
       s.status,
       s.created_at,
       s.updated_at,
       s.finalized_at,
       (select count(*) from public.revisions r where r.session_id = s.id)::integer
         as revision_count,
       (select count(*) from public.drafts d where d.session_id = s.id)::integer
         as draft_count,
       (select count(*) from public.resolutions x where x.session_id = s.id)::integer
         as resolution_count,
       s.open_hole_count,
       case when s.finalized_at is not null
            then extract(epoch from s.finalized_at - s.created_at)::double precision
       end as seconds_to_finalize
  from public.sessions s;

-- Per user (the caller sees one row, its own, or none before its first session): the
-- sessions counted by status, the mean time to finalize, and the open holes of the
-- active sessions (a finalized session has none; an abandoned one's do not wait).
create view public.session_stats with (security_invoker = true) as
select v.user_id,
       count(*)::integer as total,
       (count(*) filter (where v.status = 'active'))::integer as active,
       (count(*) filter (where v.status = 'finalized'))::integer as finalized,
       (count(*) filter (where v.status = 'abandoned'))::integer as abandoned,
       avg(v.seconds_to_finalize) as average_seconds_to_finalize,
       coalesce(sum(v.open_hole_count) filter (where v.status = 'active'), 0)::integer
         as open_holes
  from public.session_summary v
 group by v.user_id;

-- One timeline of what happened in the caller's sessions, newest first by (at, row_id):
-- a session created, each revision, draft and resolution, and the session finalized or
-- abandoned (an abandoned session's last change is its abandoning: only active sessions
-- change). `row_id` is the row's own id, so each branch reads its page in that order from
-- an index and a page is a merge of six short index scans (one write's events share a
-- timestamp and come in the order of their ids); `id`, the kind and the row id, is unique
-- across kinds (pg_graphql's key). `row_key` is row_id as text, in the same order (byte
-- order of lower-case hex): pg_graphql filters a UUID by equality only, a String by `lt`.
create view public.session_activity with (security_invoker = true) as
select 'session_created:' || s.id as id, 'session_created' as kind, s.created_at as at,
       s.id as row_id, s.id::text collate "C" as row_key, s.user_id, s.id as session_id,
       null::uuid as revision_id, null::uuid as draft_id, null::uuid as resolution_id
  from public.sessions s
union all
select 'revision_added:' || r.id, 'revision_added', r.created_at, r.id, r.id::text, r.user_id,
       r.session_id, r.id, null, null
  from public.revisions r
union all
select 'draft_added:' || d.id, 'draft_added', d.created_at, d.id, d.id::text, d.user_id,
       d.session_id,
       null, d.id, null
  from public.drafts d
union all
select 'hole_resolved:' || x.id, 'hole_resolved', x.created_at, x.id, x.id::text, x.user_id,
       x.session_id, x.revision_id, null, x.id
  from public.resolutions x
union all
select 'session_finalized:' || s.id, 'session_finalized', s.finalized_at, s.id, s.id::text,
       s.user_id, s.id, null, null, null
  from public.sessions s where s.status = 'finalized'
union all
select 'session_abandoned:' || s.id, 'session_abandoned', s.updated_at, s.id, s.id::text,
       s.user_id, s.id, null, null, null
  from public.sessions s where s.status = 'abandoned';

-- The indexes. A timeline page is a merge of six index scans in (at desc) order, each
-- stopping after a page (`user_id, <time> desc` per branch; RLS adds `user_id = uid`);
-- a session's timeline reads that session's rows by the (session_id, ...) indexes
-- the tables already have. The viewer's stats count its sessions by status, and sum open
-- holes over its active sessions only (finalized ones have none left to answer).
create index sessions_user_id_created_at_idx
  on public.sessions (user_id, created_at desc, id desc);
create index sessions_user_id_status_idx on public.sessions (user_id, status);
create index sessions_user_id_finalized_at_idx
  on public.sessions (user_id, finalized_at desc, id desc) where status = 'finalized';
create index sessions_user_id_abandoned_idx
  on public.sessions (user_id, updated_at desc, id desc) where status = 'abandoned';
create index revisions_user_id_created_at_idx
  on public.revisions (user_id, created_at desc, id desc);
create index drafts_user_id_created_at_idx on public.drafts (user_id, created_at desc, id desc);
create index resolutions_user_id_created_at_idx
  on public.resolutions (user_id, created_at desc, id desc);

revoke all on public.session_summary, public.session_stats, public.session_activity
  from public, anon, authenticated;
grant select on public.session_summary, public.session_stats, public.session_activity
  to authenticated;

-- pg_graphql: a view needs its key named; its relationships are named here too
-- (`Session.activity` upstream is the session's rows of session_activity).
comment on view public.session_summary is e'@graphql({"name": "SessionSummary", "primary_key_columns": ["id"]})';
comment on view public.session_stats is e'@graphql({"name": "SessionStats", "primary_key_columns": ["user_id"]})';
comment on view public.session_activity is e'@graphql({"name": "SessionActivity", "primary_key_columns": ["id"], "totalCount": {"enabled": true}, "foreign_keys": [{"local_name": "activity", "local_columns": ["session_id"], "foreign_name": "session", "foreign_schema": "public", "foreign_table": "sessions", "foreign_columns": ["id"]}, {"local_name": "activity", "local_columns": ["revision_id"], "foreign_name": "revision", "foreign_schema": "public", "foreign_table": "revisions", "foreign_columns": ["id"]}, {"local_name": "activity", "local_columns": ["draft_id"], "foreign_name": "draft", "foreign_schema": "public", "foreign_table": "drafts", "foreign_columns": ["id"]}, {"local_name": "activity", "local_columns": ["resolution_id"], "foreign_name": "resolution", "foreign_schema": "public", "foreign_table": "resolutions", "foreign_columns": ["id"]}]})';

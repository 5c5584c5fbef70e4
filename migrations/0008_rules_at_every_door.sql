-- Every rule of the service held by Postgres itself, whatever door a write comes through:
-- the gateway's functions, pg_graphql's insertInto/update/deleteFrom<Table>Collection,
-- PostgREST, or plain SQL as `authenticated` with a user's claims. The list of rules and
-- where each lives: docs/ARCHITECTURE.md, "Rules and where they live".
--
-- What changes:
-- * Each table's insert trigger checks the fields (0007's functions), then adds the row to
--   its session: one UPDATE of the session row, which takes its lock (concurrent writers
--   queue), refuses a session that is not active or not the caller's (RLS: NOT_FOUND, the
--   same for another user's id and a random one), and bumps `version`.
-- * `version` goes up exactly once per statement that changes the session or adds to it
--   (the session guard), and is no longer granted to anyone: nothing writes it directly.
-- * Numbers are max + 1 under that lock, so the counters on sessions go: nothing can write
--   them out of step with the rows any more.
-- * A resolution's revision must be one of its own session's (composite foreign key), and
--   its hole an unresolved hole of the session's current draft (its insert trigger).
-- * Check constraints whose messages named themselves give way to the triggers' messages.
--
-- Existing rows: drafts whose ir is not an IR stop the migration (they cannot be repaired;
-- fix or delete them first); ambiguities that name no hole of their IR lose those names;
-- resolutions that point at a revision of another session or user lose that reference.

-- Refuse what cannot be repaired, before changing anything.
do $$
declare
  broken integer;
  first_id uuid;
begin
  select count(*), min(d.id::text)::uuid into broken, first_id
    from public.drafts d where session_graph.ir_problem(d.ir) is not null;
  if broken > 0 then
    raise exception 'session-graph: % draft(s) hold an ir that is not a lift-sys IR (first: %); fix or delete them, then migrate again',
      broken, first_id;
  end if;
end
$$;

-- Repairs (as the migrating role; the old triggers do not touch sessions).
update public.drafts d
   set ambiguities = array(select h from unnest(session_graph.ir_hole_identifiers(d.ir))
                                      with ordinality u(h, n)
                            where h = any (d.ambiguities) order by n)
 where not (d.ambiguities <@ session_graph.ir_hole_identifiers(d.ir));

update public.resolutions z
   set revision_id = null
 where z.revision_id is not null
   and not exists (select 1 from public.revisions r
                    where r.id = z.revision_id and r.session_id = z.session_id
                      and r.user_id = z.user_id);

-- No cross-user or cross-session reference of any kind: every child names its session
-- together with its owner, and a resolution its revision together with both.
alter table public.revisions
  add constraint revisions_id_session_id_user_id_key unique (id, session_id, user_id);
alter table public.resolutions drop constraint resolutions_revision_id_fkey;
alter table public.resolutions
  add constraint resolutions_revision_id_fkey foreign key (revision_id, session_id, user_id)
  references public.revisions (id, session_id, user_id) on delete cascade;
comment on constraint resolutions_revision_id_fkey on public.resolutions
  is e'@graphql({"foreign_name": "revision", "local_name": "resolutions"})';

-- The old numbering, and the counters it kept.
drop trigger revisions_number on public.revisions;
drop trigger drafts_version on public.drafts;
drop trigger resolutions_number on public.resolutions;
drop function session_graph.number_session_child();
alter table public.sessions
  drop column revision_count, drop column draft_count, drop column resolution_count;

-- Field checks now live in the triggers (0007's functions), with messages for clients.
alter table public.sessions
  drop constraint sessions_status_check, drop constraint sessions_source_check,
  drop constraint sessions_title_check, drop constraint sessions_metadata_check,
  drop constraint sessions_idempotency_key_check;
alter table public.revisions
  drop constraint revisions_content_check, drop constraint revisions_revision_type_check,
  drop constraint revisions_target_hole_check, drop constraint revisions_metadata_check,
  drop constraint revisions_hole_fill_names_a_hole;
alter table public.drafts
  drop constraint drafts_ir_check, drop constraint drafts_validation_status_check,
  drop constraint drafts_smt_results_check, drop constraint drafts_metadata_check;
alter table public.resolutions
  drop constraint resolutions_hole_id_check, drop constraint resolutions_resolution_text_check,
  drop constraint resolutions_resolution_type_check, drop constraint resolutions_metadata_check;

-- Without ambiguities a draft's are its IR's holes; the insert trigger fills them in.
alter table public.drafts alter column ambiguities drop default;

-- Sessions ------------------------------------------------------------------------------

create function session_graph.check_session_insert() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
begin
  perform session_graph.check_session_fields(new.source, new.title, new.metadata,
                                             new.idempotency_key);
  if new.idempotency_key is not null then
    -- One writer per (user, key) at a time: the check below cannot race.
    perform pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended(new.user_id::text || '/' || new.idempotency_key, 0));
    if exists (select 1 from public.sessions s
                where s.user_id = new.user_id and s.idempotency_key = new.idempotency_key) then
      perform session_graph.refuse('CONFLICT', 'a session with this idempotencyKey exists');
    end if;
  end if;
  -- Marks the row as written by this statement (see guard_session_update).
  new.updated_at := pg_catalog.statement_timestamp();
  return new;
end
$$;

create trigger sessions_check_insert
  before insert on public.sessions
  for each row execute function session_graph.check_session_insert();

-- Whether a row version (its xmin) was written by this transaction or one of its
-- subtransactions (a savepoint, as PostGraphile and pg_graphql use). The 32-bit xmin is
-- placed in the current epoch by its distance to this transaction's id (live ids are
-- within 2^31 of each other); a version this transaction wrote is "in progress".
create function session_graph.written_in_this_transaction(written xid) returns boolean
  language sql volatile
  set search_path = ''
begin atomic
  select coalesce(pg_catalog.pg_xact_status((
           top + ((written::text::bigint - (top & 4294967295) + 6442450944) % 4294967296)
               - 2147483648)::text::pg_catalog.xid8) = 'in progress', false)
    from (select pg_catalog.pg_current_xact_id()::text::bigint as top) current;
end;

-- Every UPDATE of a session row: what may change, only while active, the finalize rule,
-- and the version. A statement bumps the version once, however many rows it adds to the
-- session: the row carries the time its statement started (updated_at) and its xmin says
-- which transaction wrote it, so a second update by the same statement is recognised
-- (while this trigger runs the row is locked: no other transaction has a version of it
-- in progress).
create or replace function session_graph.guard_session_update() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
declare
  current_draft record;
begin
  if new.id <> old.id or new.user_id <> old.user_id or new.source <> old.source
     or new.created_at <> old.created_at
     or new.idempotency_key is distinct from old.idempotency_key then
    perform session_graph.refuse('BAD_USER_INPUT',
      'a session''s id, owner, source and creation time never change');
  end if;
  if old.status <> 'active' then
    perform session_graph.refuse('FAILED_PRECONDITION',
      pg_catalog.format('the session is %s; only active sessions change', old.status));
  end if;
  if new.status is distinct from old.status then
    perform session_graph.check_choice(new.status, 'status', '{active,finalized,abandoned}');
  end if;
  if new.title is distinct from old.title then
    perform session_graph.check_text(new.title, 'title', 500, false);
  end if;
  if new.metadata is distinct from old.metadata then
    perform session_graph.check_json(new.metadata, 'metadata', 'object');
  end if;

  if new.status = 'finalized' then
    select d.ambiguities, d.validation_status into current_draft
      from public.drafts d
     where d.session_id = new.id
     order by d.version desc
     limit 1;
    if not found then
      perform session_graph.refuse('FAILED_PRECONDITION',
        'Cannot finalize: the session has no draft');
    end if;
    if cardinality(current_draft.ambiguities) > 0 then
      perform session_graph.refuse('FAILED_PRECONDITION', pg_catalog.format(
        'Cannot finalize: %s unresolved holes remaining', cardinality(current_draft.ambiguities)));
    end if;
    if current_draft.validation_status = 'contradictory' then
      perform session_graph.refuse('FAILED_PRECONDITION',
        'Cannot finalize: the current draft is contradictory');
    end if;
    new.finalized_at := now();
  else
    new.finalized_at := null;
  end if;

  if old.updated_at = pg_catalog.statement_timestamp() and exists (
       select 1 from public.sessions s
        where s.id = old.id and session_graph.written_in_this_transaction(s.xmin)) then
    new.version := old.version;  -- this statement has bumped it already
  else
    new.version := old.version + 1;
  end if;
  new.updated_at := pg_catalog.statement_timestamp();
  return new;
end
$$;

-- Adds to a session: locks its row, refuses it unless it is the caller's and active, and
-- bumps its version (once per statement). Every child's insert trigger calls it first.
-- When this statement has done all that already (it wrote the row, which is still active),
-- there is nothing left to do: no second row version.
create function session_graph.add_to_session(target uuid) returns void
  language plpgsql volatile security invoker
  set search_path = ''
as $$
begin
  if exists (
       select 1 from public.sessions s
        where s.id = target and s.status = 'active'
          and s.updated_at = pg_catalog.statement_timestamp()
          and session_graph.written_in_this_transaction(s.xmin)) then
    return;
  end if;
  update public.sessions s set status = s.status where s.id = target;
  if not found then
    perform session_graph.refuse('NOT_FOUND', 'session not found');
  end if;
end
$$;

-- Children ------------------------------------------------------------------------------

create function session_graph.insert_revision() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
begin
  perform session_graph.check_revision_fields(new.content, new.revision_type, new.target_hole,
                                              new.metadata);
  perform session_graph.add_to_session(new.session_id);
  new.number := coalesce((select max(r.number) from public.revisions r
                           where r.session_id = new.session_id), 0) + 1;
  return new;
end
$$;

create trigger revisions_insert
  before insert on public.revisions
  for each row execute function session_graph.insert_revision();

create function session_graph.insert_draft() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
begin
  new.ambiguities := session_graph.check_draft_fields(new.ir, new.validation_status,
                                                      new.smt_results, new.ambiguities,
                                                      new.metadata);
  perform session_graph.add_to_session(new.session_id);
  new.version := coalesce((select max(d.version) from public.drafts d
                            where d.session_id = new.session_id), 0) + 1;
  return new;
end
$$;

create trigger drafts_insert
  before insert on public.drafts
  for each row execute function session_graph.insert_draft();

create function session_graph.insert_resolution() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
declare
  open_holes text[];
begin
  perform session_graph.check_resolution_fields(new.hole_id, new.resolution_text,
                                                new.resolution_type, new.metadata);
  perform session_graph.add_to_session(new.session_id);
  if new.revision_id is not null and not exists (
       select 1 from public.revisions r
        where r.id = new.revision_id and r.session_id = new.session_id) then
    perform session_graph.refuse('NOT_FOUND', 'revision not found');
  end if;
  select d.ambiguities into open_holes from public.drafts d
   where d.session_id = new.session_id
   order by d.version desc
   limit 1;
  if open_holes is null or not (new.hole_id = any (open_holes)) then
    perform session_graph.refuse('BAD_USER_INPUT', pg_catalog.format(
      '"%s" is not an unresolved hole of the current draft', new.hole_id));
  end if;
  new.number := coalesce((select max(z.number) from public.resolutions z
                           where z.session_id = new.session_id), 0) + 1;
  return new;
end
$$;

create trigger resolutions_insert
  before insert on public.resolutions
  for each row execute function session_graph.insert_resolution();

-- A resolution changes in one way only (applied: false to true), and that changes its
-- session: while active, with a version bump.
create or replace function session_graph.guard_resolution_update() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
begin
  if old.applied and not new.applied then
    perform session_graph.refuse('BAD_USER_INPUT', 'an applied resolution stays applied');
  end if;
  perform session_graph.add_to_session(new.session_id);
  return new;
end
$$;

-- The operations -------------------------------------------------------------------------

-- Locks a session for a write and checks the caller's view of its version. Whether it
-- may change at all is the session guard's to say, when the write reaches the row.
create or replace function session_graph.lock_session(target uuid, expected_version integer)
  returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
declare
  locked public.sessions;
begin
  if expected_version is not null and expected_version < 1 then
    perform session_graph.refuse('BAD_USER_INPUT', 'expectedVersion must be a positive version');
  end if;
  select * into locked from public.sessions s where s.id = target for update;
  if not found then
    perform session_graph.refuse('NOT_FOUND', 'session not found');
  end if;
  if expected_version is not null and locked.version <> expected_version then
    perform session_graph.refuse('CONFLICT', pg_catalog.format(
      'the session is at version %s, not %s', locked.version, expected_version));
  end if;
  return locked;
end
$$;

create or replace function public.create_session(
  prompt          text    default null,
  source          text    default 'prompt',
  title           text    default null,
  metadata        jsonb   default '{}',
  initial_draft   jsonb   default null,
  idempotency_key text    default null
) returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  created public.sessions;
begin
  perform session_graph.check_session_fields(coalesce(create_session.source, 'prompt'),
    create_session.title, coalesce(create_session.metadata, '{}'::jsonb),
    create_session.idempotency_key);
  if create_session.idempotency_key is not null then
    -- The insert trigger takes the same lock: a retry waits for the first, then finds it.
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(
      (select auth.uid())::text || '/' || create_session.idempotency_key, 0));
    select * into created from public.sessions s
     where s.user_id = (select auth.uid()) and s.idempotency_key = create_session.idempotency_key;
    if found then
      return created;  -- a retry of a request that already succeeded
    end if;
  end if;

  insert into public.sessions (source, title, metadata, idempotency_key)
  values (coalesce(create_session.source, 'prompt'), create_session.title,
          coalesce(create_session.metadata, '{}'::jsonb), create_session.idempotency_key)
  returning * into created;

  if create_session.prompt is not null then
    insert into public.revisions (session_id, content, revision_type)
    values (created.id, create_session.prompt, 'initial');
  end if;

  if create_session.initial_draft is not null then
    insert into public.drafts (session_id, ir, validation_status, smt_results, ambiguities, metadata)
    values (
      created.id,
      create_session.initial_draft -> 'ir',
      coalesce(create_session.initial_draft ->> 'validation_status', 'pending'),
      coalesce(nullif(create_session.initial_draft -> 'smt_results', 'null'), '[]'::jsonb),
      case when pg_catalog.jsonb_typeof(create_session.initial_draft -> 'ambiguities') = 'array'
           then array(select pg_catalog.jsonb_array_elements_text(
                               create_session.initial_draft -> 'ambiguities')) end,
      coalesce(nullif(create_session.initial_draft -> 'metadata', 'null'), '{}'::jsonb)
    );
  end if;

  select * into created from public.sessions s where s.id = created.id;
  return created;
end
$$;

create or replace function public.add_revision(
  session_id    uuid,
  content       text,
  revision_type text  default 'manual_edit',
  target_hole   text  default null,
  metadata      jsonb default '{}'
) returns public.revisions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  added public.revisions;
begin
  insert into public.revisions (session_id, content, revision_type, target_hole, metadata)
  values (add_revision.session_id, add_revision.content, add_revision.revision_type,
          add_revision.target_hole, coalesce(add_revision.metadata, '{}'::jsonb))
  returning * into added;
  return added;
end
$$;

-- `ambiguities` null (the default): the IR's holes.
create or replace function public.add_draft(
  session_id        uuid,
  ir                jsonb,
  validation_status text    default 'pending',
  smt_results       jsonb   default '[]',
  ambiguities       text[]  default null,
  applied_hole_ids  text[]  default '{}',
  metadata          jsonb   default '{}',
  expected_version  integer default null
) returns public.drafts
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  added public.drafts;
  hole text;
begin
  if cardinality(add_draft.applied_hole_ids) > 1000 then
    perform session_graph.refuse('BAD_USER_INPUT', 'appliedHoleIds has more than 1000 entries');
  end if;
  foreach hole in array coalesce(add_draft.applied_hole_ids, '{}') loop
    perform session_graph.check_text(hole, 'appliedHoleIds', 200);
  end loop;
  perform session_graph.lock_session(add_draft.session_id, add_draft.expected_version);
  insert into public.drafts (session_id, ir, validation_status, smt_results, ambiguities, metadata)
  values (add_draft.session_id, add_draft.ir, coalesce(add_draft.validation_status, 'pending'),
          coalesce(add_draft.smt_results, '[]'::jsonb), add_draft.ambiguities,
          coalesce(add_draft.metadata, '{}'::jsonb))
  returning * into added;
  update public.resolutions r set applied = true
   where r.session_id = add_draft.session_id
     and r.hole_id = any (coalesce(add_draft.applied_hole_ids, '{}'))
     and not r.applied;
  return added;
end
$$;

create or replace function public.resolve_hole(
  session_id       uuid,
  hole_id          text,
  resolution_text  text,
  resolution_type  text    default 'clarify_intent',
  metadata         jsonb   default '{}',
  expected_version integer default null
) returns public.resolutions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  logged   public.revisions;
  resolved public.resolutions;
begin
  -- Bad input is refused before the session is looked at, as on every other path.
  perform session_graph.check_resolution_fields(resolve_hole.hole_id,
    resolve_hole.resolution_text, coalesce(resolve_hole.resolution_type, 'clarify_intent'),
    coalesce(resolve_hole.metadata, '{}'::jsonb));
  perform session_graph.lock_session(resolve_hole.session_id, resolve_hole.expected_version);
  insert into public.revisions (session_id, content, revision_type, target_hole, metadata)
  values (resolve_hole.session_id, resolve_hole.resolution_text, 'hole_fill',
          resolve_hole.hole_id, coalesce(resolve_hole.metadata, '{}'::jsonb))
  returning * into logged;
  insert into public.resolutions (session_id, revision_id, hole_id, resolution_text,
                                  resolution_type, metadata)
  values (resolve_hole.session_id, logged.id, resolve_hole.hole_id, resolve_hole.resolution_text,
          coalesce(resolve_hole.resolution_type, 'clarify_intent'),
          coalesce(resolve_hole.metadata, '{}'::jsonb))
  returning * into resolved;
  return resolved;
end
$$;

-- The finalize rules (no unresolved holes, not contradictory) live in the session guard.
create or replace function public.finalize_session(
  session_id uuid, expected_version integer default null
) returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  finalized public.sessions;
begin
  perform session_graph.lock_session(finalize_session.session_id, finalize_session.expected_version);
  update public.sessions s set status = 'finalized'
   where s.id = finalize_session.session_id
  returning * into finalized;
  return finalized;
end
$$;

create or replace function public.abandon_session(
  session_id uuid, expected_version integer default null
) returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  abandoned public.sessions;
begin
  perform session_graph.lock_session(abandon_session.session_id, abandon_session.expected_version);
  update public.sessions s set status = 'abandoned'
   where s.id = abandon_session.session_id
  returning * into abandoned;
  return abandoned;
end
$$;

-- Grants ---------------------------------------------------------------------------------

revoke update (version) on public.sessions from authenticated;

revoke all on all functions in schema session_graph from public, anon;
grant execute on all functions in schema session_graph to authenticated;

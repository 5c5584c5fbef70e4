-- Rules that hold whatever path a write takes (the gateway's functions, pg_graphql's
-- table mutations, plain SQL). They live in schema session_graph, which is on no API
-- search_path, so pg_graphql and PostgREST never expose them.

create schema if not exists session_graph;
grant usage on schema session_graph to authenticated;

-- Every rule violation is raised as P0001 with "<CODE>: <text>"; both backends map
-- the prefix to the GraphQL error code, and the text is written for the client.

create function session_graph.guard_session_update() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
declare
  current_draft record;
begin
  if new.id <> old.id or new.user_id <> old.user_id or new.source <> old.source
     or new.created_at <> old.created_at
     or new.idempotency_key is distinct from old.idempotency_key then
    raise exception using errcode = 'P0001',
      message = 'BAD_USER_INPUT: a session''s id, owner, source and creation time never change';
  end if;
  if old.status <> 'active' then
    raise exception using errcode = 'P0001',
      message = format('FAILED_PRECONDITION: the session is %s; only active sessions change', old.status);
  end if;
  if new.version < old.version or new.revision_count < old.revision_count
     or new.draft_count < old.draft_count or new.resolution_count < old.resolution_count then
    raise exception using errcode = 'P0001',
      message = 'BAD_USER_INPUT: a session''s version and counters only move forward';
  end if;

  if new.status = 'finalized' then
    select d.ambiguities, d.validation_status into current_draft
      from public.drafts d
     where d.session_id = new.id
     order by d.version desc
     limit 1;
    if not found then
      raise exception using errcode = 'P0001',
        message = 'FAILED_PRECONDITION: Cannot finalize: the session has no draft';
    end if;
    if cardinality(current_draft.ambiguities) > 0 then
      raise exception using errcode = 'P0001',
        message = format('FAILED_PRECONDITION: Cannot finalize: %s unresolved holes remaining',
                         cardinality(current_draft.ambiguities));
    end if;
    if current_draft.validation_status = 'contradictory' then
      raise exception using errcode = 'P0001',
        message = 'FAILED_PRECONDITION: Cannot finalize: the current draft is contradictory';
    end if;
    new.finalized_at := now();
  else
    new.finalized_at := null;
  end if;

  new.updated_at := now();
  return new;
end
$$;

create trigger sessions_guard_update
  before update on public.sessions
  for each row execute function session_graph.guard_session_update();

-- Numbers a child row from its session's counter. The counter update takes the
-- session's row lock, so concurrent writers queue and the numbers are gap-free and
-- unique; a rolled-back insert rolls its number back too. Updating the session also
-- runs the guard above, so children are only added to active sessions.
-- tg_argv[0]: the counter column on sessions; tg_argv[1]: the child column it fills.
create function session_graph.number_session_child() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
declare
  next_number integer;
begin
  execute format(
    'update public.sessions set %1$I = %1$I + 1 where id = $1 returning %1$I', tg_argv[0])
    into next_number
    using new.session_id;
  if next_number is null then
    raise exception using errcode = 'P0001', message = 'NOT_FOUND: session not found';
  end if;
  new := pg_catalog.jsonb_populate_record(new, pg_catalog.jsonb_build_object(tg_argv[1], next_number));
  return new;
end
$$;

create trigger revisions_number
  before insert on public.revisions
  for each row execute function session_graph.number_session_child('revision_count', 'number');
create trigger drafts_version
  before insert on public.drafts
  for each row execute function session_graph.number_session_child('draft_count', 'version');
create trigger resolutions_number
  before insert on public.resolutions
  for each row execute function session_graph.number_session_child('resolution_count', 'number');

-- Revisions and drafts are a log: they never change once written.
-- Resolutions change in one way only: applied goes from false to true.
create function session_graph.guard_resolution_update() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
begin
  if old.applied and not new.applied then
    raise exception using errcode = 'P0001',
      message = 'BAD_USER_INPUT: an applied resolution stays applied';
  end if;
  return new;
end
$$;

create trigger resolutions_guard_update
  before update on public.resolutions
  for each row execute function session_graph.guard_resolution_update();

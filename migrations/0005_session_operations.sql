-- The multi-step operations, one function each. They are security invoker: they run
-- as the caller, so row-level security and the grants still decide what they touch.
-- Both backends call these (asyncpg directly; pg_graphql as Mutation fields), so each
-- operation is one transaction with its rules in one place.

-- Locks a session for a write and checks the caller's view of it.
create function session_graph.lock_session(target uuid, expected_version integer)
  returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
declare
  locked public.sessions;
begin
  select * into locked from public.sessions s where s.id = target for update;
  if not found then
    raise exception using errcode = 'P0001', message = 'NOT_FOUND: session not found';
  end if;
  if expected_version is not null and locked.version <> expected_version then
    raise exception using errcode = 'P0001',
      message = format('CONFLICT: the session is at version %s, not %s', locked.version, expected_version);
  end if;
  if locked.status <> 'active' then
    raise exception using errcode = 'P0001',
      message = format('FAILED_PRECONDITION: the session is %s; only active sessions change', locked.status);
  end if;
  return locked;
end
$$;

create function public.create_session(
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
  insert into public.sessions (source, title, metadata, idempotency_key)
  values (coalesce(create_session.source, 'prompt'), create_session.title,
          coalesce(create_session.metadata, '{}'::jsonb), create_session.idempotency_key)
  on conflict (user_id, idempotency_key) do nothing
  returning * into created;

  if created.id is null then
    -- A retry of a request that already succeeded: answer with what it created.
    select * into created from public.sessions s
     where s.user_id = (select auth.uid()) and s.idempotency_key = create_session.idempotency_key;
    return created;
  end if;

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
      coalesce(create_session.initial_draft -> 'smt_results', '[]'::jsonb),
      array(select pg_catalog.jsonb_array_elements_text(
              coalesce(create_session.initial_draft -> 'ambiguities', '[]'::jsonb))),
      coalesce(create_session.initial_draft -> 'metadata', '{}'::jsonb)
    );
  end if;

  select * into created from public.sessions s where s.id = created.id;
  return created;
end
$$;

create function public.add_revision(
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
  perform session_graph.lock_session(add_revision.session_id, null);
  insert into public.revisions (session_id, content, revision_type, target_hole, metadata)
  values (add_revision.session_id, add_revision.content, add_revision.revision_type,
          add_revision.target_hole, coalesce(add_revision.metadata, '{}'::jsonb))
  returning * into added;
  update public.sessions s set version = s.version + 1 where s.id = add_revision.session_id;
  return added;
end
$$;

create function public.add_draft(
  session_id        uuid,
  ir                jsonb,
  validation_status text    default 'pending',
  smt_results       jsonb   default '[]',
  ambiguities       text[]  default '{}',
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
begin
  perform session_graph.lock_session(add_draft.session_id, add_draft.expected_version);
  insert into public.drafts (session_id, ir, validation_status, smt_results, ambiguities, metadata)
  values (add_draft.session_id, add_draft.ir, coalesce(add_draft.validation_status, 'pending'),
          coalesce(add_draft.smt_results, '[]'::jsonb), coalesce(add_draft.ambiguities, '{}'),
          coalesce(add_draft.metadata, '{}'::jsonb))
  returning * into added;
  update public.resolutions r set applied = true
   where r.session_id = add_draft.session_id
     and r.hole_id = any(coalesce(add_draft.applied_hole_ids, '{}'))
     and not r.applied;
  update public.sessions s set version = s.version + 1 where s.id = add_draft.session_id;
  return added;
end
$$;

create function public.resolve_hole(
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
  open_holes text[];
  logged     public.revisions;
  resolved   public.resolutions;
begin
  perform session_graph.lock_session(resolve_hole.session_id, resolve_hole.expected_version);
  select d.ambiguities into open_holes from public.drafts d
   where d.session_id = resolve_hole.session_id
   order by d.version desc
   limit 1;
  if open_holes is null or not (resolve_hole.hole_id = any(open_holes)) then
    raise exception using errcode = 'P0001',
      message = format('BAD_USER_INPUT: "%s" is not an unresolved hole of the current draft',
                       resolve_hole.hole_id);
  end if;

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
  update public.sessions s set version = s.version + 1 where s.id = resolve_hole.session_id;
  return resolved;
end
$$;

-- The finalize rules (no unresolved holes, not contradictory) live in the update guard.
create function public.finalize_session(session_id uuid, expected_version integer default null)
  returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  finalized public.sessions;
begin
  perform session_graph.lock_session(finalize_session.session_id, finalize_session.expected_version);
  update public.sessions s set status = 'finalized', version = s.version + 1
   where s.id = finalize_session.session_id
  returning * into finalized;
  return finalized;
end
$$;

create function public.abandon_session(session_id uuid, expected_version integer default null)
  returns public.sessions
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  abandoned public.sessions;
begin
  perform session_graph.lock_session(abandon_session.session_id, abandon_session.expected_version);
  update public.sessions s set status = 'abandoned', version = s.version + 1
   where s.id = abandon_session.session_id
  returning * into abandoned;
  return abandoned;
end
$$;

-- Deleting a session deletes its revisions, drafts and resolutions (on delete cascade).
create function public.delete_session(session_id uuid)
  returns uuid
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  deleted uuid;
begin
  delete from public.sessions s where s.id = delete_session.session_id returning s.id into deleted;
  if deleted is null then
    raise exception using errcode = 'P0001', message = 'NOT_FOUND: session not found';
  end if;
  return deleted;
end
$$;

revoke all on function
  public.create_session(text, text, text, jsonb, jsonb, text),
  public.add_revision(uuid, text, text, text, jsonb),
  public.add_draft(uuid, jsonb, text, jsonb, text[], text[], jsonb, integer),
  public.resolve_hole(uuid, text, text, text, jsonb, integer),
  public.finalize_session(uuid, integer),
  public.abandon_session(uuid, integer),
  public.delete_session(uuid),
  session_graph.lock_session(uuid, integer)
from public, anon;

grant execute on function
  public.create_session(text, text, text, jsonb, jsonb, text),
  public.add_revision(uuid, text, text, text, jsonb),
  public.add_draft(uuid, jsonb, text, jsonb, text[], text[], jsonb, integer),
  public.resolve_hole(uuid, text, text, text, jsonb, integer),
  public.finalize_session(uuid, integer),
  public.abandon_session(uuid, integer),
  public.delete_session(uuid),
  session_graph.lock_session(uuid, integer)
to authenticated;

-- Reverting a session to an earlier draft appends, it never rewrites: the next version
-- gets the target's IR, the IR's holes as ambiguities and `pending` validation, with
-- metadata {"revertedFrom": <current version>, "revertedTo": <target>}, and a MANUAL_EDIT
-- revision says so. One function, one transaction, as the caller (RLS applies);
-- `expected_version` as everywhere; only active sessions (the session guard);
-- reverting to the current version is refused.
create function public.revert_to_draft(
  session_id       uuid,
  version          integer,
  expected_version integer default null
) returns public.drafts
  language plpgsql volatile security invoker
  set search_path = ''
as $$
#variable_conflict use_column
declare
  target  public.drafts;
  current integer;
  marks   jsonb;
  added   public.drafts;
begin
  perform session_graph.lock_session(revert_to_draft.session_id, revert_to_draft.expected_version);
  select * into target from public.drafts d
   where d.session_id = revert_to_draft.session_id and d.version = revert_to_draft.version;
  if not found then
    perform session_graph.refuse('NOT_FOUND', pg_catalog.format(
      'the session has no draft version %s', revert_to_draft.version));
  end if;
  select max(d.version) into current from public.drafts d
   where d.session_id = revert_to_draft.session_id;
  if current = revert_to_draft.version then
    perform session_graph.refuse('BAD_USER_INPUT', pg_catalog.format(
      'version %s is the current draft already', revert_to_draft.version));
  end if;
  marks := pg_catalog.jsonb_build_object('revertedFrom', current, 'revertedTo', target.version);
  insert into public.revisions (session_id, content, revision_type, metadata)
  values (revert_to_draft.session_id,
          pg_catalog.format('Reverted to version %s (from version %s)', target.version, current),
          'manual_edit', marks);
  insert into public.drafts (session_id, ir, validation_status, smt_results, ambiguities, metadata)
  values (revert_to_draft.session_id, target.ir, 'pending', '[]'::jsonb, null, marks)
  returning * into added;
  return added;
end
$$;

revoke all on function public.revert_to_draft(uuid, integer, integer) from public, anon;
grant execute on function public.revert_to_draft(uuid, integer, integer) to authenticated;

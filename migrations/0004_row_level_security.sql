-- Row-level security: every row belongs to auth.uid(). One policy per command, to
-- authenticated only; (select auth.uid()) is evaluated once per statement, not per row.

alter table public.sessions    enable row level security;
alter table public.revisions   enable row level security;
alter table public.drafts      enable row level security;
alter table public.resolutions enable row level security;

create policy sessions_select on public.sessions for select to authenticated
  using (user_id = (select auth.uid()));
create policy sessions_insert on public.sessions for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy sessions_update on public.sessions for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy sessions_delete on public.sessions for delete to authenticated
  using (user_id = (select auth.uid()));

create policy revisions_select on public.revisions for select to authenticated
  using (user_id = (select auth.uid()));
create policy revisions_insert on public.revisions for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy revisions_update on public.revisions for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy revisions_delete on public.revisions for delete to authenticated
  using (user_id = (select auth.uid()));

create policy drafts_select on public.drafts for select to authenticated
  using (user_id = (select auth.uid()));
create policy drafts_insert on public.drafts for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy drafts_update on public.drafts for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy drafts_delete on public.drafts for delete to authenticated
  using (user_id = (select auth.uid()));

create policy resolutions_select on public.resolutions for select to authenticated
  using (user_id = (select auth.uid()));
create policy resolutions_insert on public.resolutions for insert to authenticated
  with check (user_id = (select auth.uid()));
create policy resolutions_update on public.resolutions for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy resolutions_delete on public.resolutions for delete to authenticated
  using (user_id = (select auth.uid()));

-- Grants. Supabase's default privileges may have granted everything to anon and
-- authenticated already; take that back, then grant exactly what is needed.
-- Column lists keep user_id, numbering and counters out of direct writes: user_id
-- always comes from auth.uid(), numbers from the triggers.
revoke all on public.sessions, public.revisions, public.drafts, public.resolutions
  from public, anon, authenticated;

grant select, delete on public.sessions to authenticated;
grant insert (source, title, metadata, idempotency_key) on public.sessions to authenticated;
grant update (status, title, metadata, version, revision_count, draft_count, resolution_count)
  on public.sessions to authenticated;

grant select on public.revisions to authenticated;
grant insert (session_id, content, revision_type, target_hole, metadata)
  on public.revisions to authenticated;

grant select on public.drafts to authenticated;
grant insert (session_id, ir, validation_status, smt_results, ambiguities, metadata)
  on public.drafts to authenticated;

grant select on public.resolutions to authenticated;
grant insert (session_id, revision_id, hole_id, resolution_text, resolution_type, metadata)
  on public.resolutions to authenticated;
grant update (applied) on public.resolutions to authenticated;

revoke all on all functions in schema session_graph from public, anon;
grant execute on all functions in schema session_graph to authenticated;

-- How pg_graphql reflects these tables. Each object has one comment, so every key for
-- an object goes in one @graphql({...}) (setting max_rows alone would drop inflect_names).
-- max_rows matches the gateway's page size limit (first <= 100).

comment on schema public is e'@graphql({"inflect_names": true, "max_rows": 100})';

comment on table public.sessions    is e'@graphql({"name": "Session", "totalCount": {"enabled": true}})';
comment on table public.revisions   is e'@graphql({"name": "Revision", "totalCount": {"enabled": true}})';
comment on table public.drafts      is e'@graphql({"name": "Draft", "totalCount": {"enabled": true}})';
comment on table public.resolutions is e'@graphql({"name": "Resolution", "totalCount": {"enabled": true}})';

comment on constraint revisions_session_fkey on public.revisions
  is e'@graphql({"foreign_name": "session", "local_name": "revisions"})';
comment on constraint drafts_session_fkey on public.drafts
  is e'@graphql({"foreign_name": "session", "local_name": "drafts"})';
comment on constraint resolutions_session_fkey on public.resolutions
  is e'@graphql({"foreign_name": "session", "local_name": "resolutions"})';
comment on constraint resolutions_revision_id_fkey on public.resolutions
  is e'@graphql({"foreign_name": "revision", "local_name": "resolutions"})';

-- The four lift-sys records, owned per user. Field names follow lift-sys's
-- spec_sessions models so that its SessionStore can move here without renaming.

create table public.sessions (
  id               uuid primary key default gen_random_uuid(),
  user_id          uuid not null default auth.uid(),
  status           text not null default 'active'
                   check (status in ('active', 'finalized', 'abandoned')),
  source           text not null default 'prompt'
                   check (source in ('prompt', 'reverse_mode')),
  title            text check (char_length(title) <= 500),
  metadata         jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  version          integer not null default 1 check (version > 0),
  idempotency_key  text check (char_length(idempotency_key) between 1 and 255),
  -- Counters that number the children gap-free; bumped under the session's row lock.
  revision_count   integer not null default 0 check (revision_count >= 0),
  draft_count      integer not null default 0 check (draft_count >= 0),
  resolution_count integer not null default 0 check (resolution_count >= 0),
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  finalized_at     timestamptz,
  constraint sessions_id_user_id_key unique (id, user_id),
  constraint sessions_user_id_idempotency_key_key unique (user_id, idempotency_key),
  constraint sessions_finalized_at_matches_status
    check ((status = 'finalized') = (finalized_at is not null))
);
-- The list order: newest updated_at first, ties by id (as pg_graphql appends its key).
create index sessions_user_id_updated_at_idx on public.sessions (user_id, updated_at desc, id);

create table public.revisions (
  id            uuid primary key default gen_random_uuid(),
  session_id    uuid not null,
  user_id       uuid not null default auth.uid(),
  number        integer not null check (number > 0),
  content       text not null check (char_length(content) between 1 and 100000),
  revision_type text not null
                check (revision_type in ('initial', 'hole_fill', 'constraint_add', 'manual_edit')),
  target_hole   text check (char_length(target_hole) between 1 and 200),
  metadata      jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at    timestamptz not null default now(),
  constraint revisions_session_id_number_key unique (session_id, number),
  constraint revisions_hole_fill_names_a_hole
    check (revision_type <> 'hole_fill' or target_hole is not null),
  constraint revisions_session_fkey foreign key (session_id, user_id)
    references public.sessions (id, user_id) on delete cascade
);
create index revisions_session_id_user_id_idx on public.revisions (session_id, user_id);
create index revisions_user_id_idx on public.revisions (user_id);

create table public.drafts (
  id                uuid primary key default gen_random_uuid(),
  session_id        uuid not null,
  user_id           uuid not null default auth.uid(),
  version           integer not null check (version > 0),
  ir                jsonb not null check (jsonb_typeof(ir) = 'object'),
  validation_status text not null default 'pending'
                    check (validation_status in ('pending', 'valid', 'contradictory', 'incomplete')),
  smt_results       jsonb not null default '[]'::jsonb check (jsonb_typeof(smt_results) = 'array'),
  ambiguities       text[] not null default '{}',
  metadata          jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at        timestamptz not null default now(),
  constraint drafts_session_id_version_key unique (session_id, version),
  constraint drafts_session_fkey foreign key (session_id, user_id)
    references public.sessions (id, user_id) on delete cascade
);
create index drafts_session_id_user_id_idx on public.drafts (session_id, user_id);
create index drafts_user_id_idx on public.drafts (user_id);

create table public.resolutions (
  id              uuid primary key default gen_random_uuid(),
  session_id      uuid not null,
  user_id         uuid not null default auth.uid(),
  number          integer not null check (number > 0),
  revision_id     uuid references public.revisions (id) on delete cascade,
  hole_id         text not null check (char_length(hole_id) between 1 and 200),
  resolution_text text not null check (char_length(resolution_text) between 1 and 100000),
  resolution_type text not null
                  check (resolution_type in ('clarify_intent', 'add_constraint',
                                             'refine_signature', 'specify_effect')),
  applied         boolean not null default false,
  metadata        jsonb not null default '{}'::jsonb check (jsonb_typeof(metadata) = 'object'),
  created_at      timestamptz not null default now(),
  constraint resolutions_session_id_number_key unique (session_id, number),
  constraint resolutions_session_fkey foreign key (session_id, user_id)
    references public.sessions (id, user_id) on delete cascade
);
create index resolutions_session_id_user_id_idx on public.resolutions (session_id, user_id);
create index resolutions_user_id_idx on public.resolutions (user_id);
create index resolutions_revision_id_idx on public.resolutions (revision_id);
create index resolutions_session_id_hole_id_idx on public.resolutions (session_id, hole_id);

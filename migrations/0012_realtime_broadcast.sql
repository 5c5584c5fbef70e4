-- Live sessions through Supabase Realtime: the announcement of 0011 also goes to Realtime
-- Broadcast, on private channels `session:<id>` and `user:<user id>`, and RLS on
-- realtime.messages decides who may join which (Realtime checks a private join against
-- these policies, under the joiner's role and claims, with realtime.topic() set).
--
-- On a Supabase project the realtime schema is Realtime's own and the first block skips.
-- On a plain Postgres it gets the shape this migration needs: realtime.messages (for the
-- policies), realtime.topic(), and realtime.send(), which here only notifies
-- `realtime_broadcast` (nothing is kept: no Realtime server drains a table here; the
-- tests' Realtime stand-in listens on that channel).

do $$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'realtime') then
    create schema realtime;
    grant usage on schema realtime to anon, authenticated, service_role;

    create table realtime.messages (
      id uuid not null default gen_random_uuid() primary key,
      topic text not null,
      extension text not null,
      payload jsonb,
      event text,
      private boolean default false,
      updated_at timestamp without time zone not null default now(),
      inserted_at timestamp without time zone not null default now()
    );
    alter table realtime.messages enable row level security;
    grant select, insert on realtime.messages to authenticated;

    create function realtime.topic() returns text
      language sql stable
      set search_path = ''
    as $f$ select nullif(current_setting('realtime.topic', true), '')::text $f$;

    create function realtime.send(payload jsonb, event text, topic text, private boolean default true)
      returns void
      language sql volatile
      set search_path = ''
    as $f$
      select pg_catalog.pg_notify('realtime_broadcast', pg_catalog.jsonb_build_object(
        'topic', topic, 'event', event, 'payload', payload, 'private', private)::text)
    $f$;
    grant execute on function realtime.topic() to anon, authenticated, service_role;
  end if;
end
$$;

-- Who may receive broadcasts: a signed-in user, on the topic of a session of theirs and on
-- their own user topic. The sessions lookup runs under the sessions table's own RLS too.
create policy session_graph_receive_broadcasts on realtime.messages
  for select to authenticated
  using (
    realtime.messages.extension = 'broadcast'
    and (
      (select realtime.topic()) = 'user:' || (select auth.uid())::text
      or exists (
        select 1 from public.sessions s
         where s.user_id = (select auth.uid())
           and 'session:' || s.id::text = (select realtime.topic())
      )
    )
  );

-- The one place that knows how announcements travel: LISTEN (0011) and Realtime, one
-- private broadcast per topic.
create or replace function session_graph.announce(topics text[], event text, payload jsonb)
  returns void
  language plpgsql volatile security invoker
  set search_path = ''
as $$
declare
  topic text;
begin
  perform pg_catalog.pg_notify('session_graph_events',
    pg_catalog.jsonb_build_object('topics', topics, 'event', event, 'payload', payload)::text);
  foreach topic in array topics loop
    perform realtime.send(payload, event, topic, true);
  end loop;
end
$$;

-- Announcements are the trigger's alone: it runs as this migration's role, so Realtime's
-- own privileges (realtime.send writes realtime.messages) are not the caller's business,
-- and no caller can announce anything itself (a forged DELETED would end a stream).
alter function session_graph.announce_session_change() security definer;
revoke all on function session_graph.announce(text[], text, jsonb),
                       session_graph.announce_session_change() from public, anon, authenticated;

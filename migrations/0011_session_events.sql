-- Live sessions: after each change a session row announces itself, with ids and its
-- version only. Whoever hears an announcement re-reads the session under their own role
-- and claims (RLS decides what they see): the channel that carries it is not private.
--
-- session_graph.announce(topics, event, payload) is the one place that knows how an
-- announcement travels. Here it is pg_notify on `session_graph_events` (what the gateway's
-- LISTEN connection hears; NOTIFY is delivered after commit, to every role that listens,
-- so the payload must name nothing but ids). Where Supabase Realtime is present a later
-- migration routes the same call to realtime.send, once per topic (`session:<id>`,
-- `user:<user id>`), and the trigger below stays as it is.

create function session_graph.announce(topics text[], event text, payload jsonb)
  returns void
  language sql volatile security invoker
  set search_path = ''
begin atomic
  select pg_catalog.pg_notify('session_graph_events',
    pg_catalog.jsonb_build_object('topics', topics, 'event', event, 'payload', payload)::text);
end;

-- CREATED, CHANGED, FINALIZED, ABANDONED, DELETED (the version a deleted session had).
create function session_graph.announce_session_change() returns trigger
  language plpgsql security invoker
  set search_path = ''
as $$
declare
  row public.sessions := case when tg_op = 'DELETE' then old else new end;
  kind text := case
    when tg_op = 'INSERT' then 'CREATED'
    when tg_op = 'DELETE' then 'DELETED'
    when new.status = 'finalized' and old.status <> 'finalized' then 'FINALIZED'
    when new.status = 'abandoned' and old.status <> 'abandoned' then 'ABANDONED'
    else 'CHANGED'
  end;
begin
  perform session_graph.announce(
    array['session:' || row.id::text, 'user:' || row.user_id::text],
    kind,
    pg_catalog.jsonb_build_object(
      'kind', kind,
      'session_id', row.id,
      'user_id', row.user_id,
      'version', row.version,
      -- when the change was made, for the delivery-latency metric (seconds since epoch)
      'at', extract(epoch from pg_catalog.clock_timestamp())));
  return null;
end
$$;

create trigger sessions_announce_insert_delete
  after insert or delete on public.sessions
  for each row execute function session_graph.announce_session_change();

-- A statement that writes the same row twice bumps its version once: say so once.
create trigger sessions_announce_update
  after update on public.sessions
  for each row
  when (old.version is distinct from new.version or old.status is distinct from new.status)
  execute function session_graph.announce_session_change();

revoke all on function session_graph.announce(text[], text, jsonb),
                       session_graph.announce_session_change() from public, anon;
grant execute on function session_graph.announce(text[], text, jsonb),
                          session_graph.announce_session_change() to authenticated;

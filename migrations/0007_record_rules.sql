-- The rules a record's own fields must keep, as functions: the one implementation that
-- every door uses (the gateway's SQL functions, pg_graphql's table mutations, PostgREST,
-- plain SQL). Each raises P0001 "<CODE>: <text>", written for a client; none names a
-- constraint or shows SQL. 0008 calls them from the tables' triggers.

-- Blank means only whitespace, where whitespace is exactly the characters Python's
-- str.isspace() accepts, spelled out so that every server agrees whatever its locale.
create function session_graph.is_blank(value text) returns boolean
  language sql immutable parallel safe
  set search_path = ''
return value operator(pg_catalog.~)
  '^[ \t\n\r\v\f\u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$';

create function session_graph.refuse(code text, message text) returns void
  language plpgsql volatile
  set search_path = ''
as $$
begin
  raise exception using errcode = 'P0001', message = code || ': ' || message;
end
$$;

-- Text a client writes: required or not, never blank, at most `max_length` characters.
create function session_graph.check_text(
  value text, what text, max_length integer, required boolean default true
) returns void
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
begin
  if value is null then
    if required then
      perform session_graph.refuse('BAD_USER_INPUT', what || ' is required');
    end if;
    return;
  end if;
  if session_graph.is_blank(value) then
    perform session_graph.refuse('BAD_USER_INPUT', what || ' must not be empty');
  end if;
  if pg_catalog.char_length(value) > max_length then
    perform session_graph.refuse('BAD_USER_INPUT',
      pg_catalog.format('%s must be at most %s characters', what, max_length));
  end if;
end
$$;

create function session_graph.check_choice(value text, what text, allowed text[])
  returns void
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
begin
  if value is null or not (value operator(pg_catalog.=) any (allowed)) then
    perform session_graph.refuse('BAD_USER_INPUT', pg_catalog.format(
      '%s must be one of %s', what, pg_catalog.array_to_string(allowed, ', ')));
  end if;
end
$$;

-- JSON a client writes: of the given type ('object' or 'array'), at most 512 KiB as text.
create function session_graph.check_json(value jsonb, what text, json_type text)
  returns void
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
begin
  if value is null or pg_catalog.jsonb_typeof(value) <> json_type then
    perform session_graph.refuse('BAD_USER_INPUT',
      pg_catalog.format('%s must be a JSON %s', what, json_type));
  end if;
  if pg_catalog.octet_length(value::text) > 524288 then
    perform session_graph.refuse('BAD_USER_INPUT', what || ' is larger than 512 KiB');
  end if;
end
$$;

-- Why `ir` is not a lift-sys IR (its ir/models.py), as "<where>: <what>"; null when it is
-- one. Clauses may carry keys of their own (a newer lift-sys adds clauses without a
-- migration here); the keys below must have the types shown.
--   intent      {summary: string, rationale?: string|null, holes?: [hole]}
--   signature   {name: string, parameters?: [{name: string, type_hint: string,
--                description?: string|null}], returns?: string|null, holes?: [hole]}
--   effects?    [{description: string, holes?: [hole]}]
--   assertions? [{predicate: string, rationale?: string|null, holes?: [hole]}]
--   metadata    {source_path?: string|null, language: string, origin: string, evidence?: []}
--   relationships?, constraints?: [object], whose holes? are [hole]
--   hole        {identifier: string (1-200, not blank), type_hint: string,
--                description?: string, constraints?: {string: string},
--                kind: intent|signature|effect|assertion|implementation}
create function session_graph.ir_problem(ir jsonb) returns text
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
declare
  problem text;
  item record;
  clause text;
begin
  if ir is null or pg_catalog.jsonb_typeof(ir) <> 'object' then
    return '(root): must be a JSON object';
  end if;
  problem := coalesce(
    session_graph.ir_field(ir, 'intent', 'intent', 'object', true),
    session_graph.ir_field(ir -> 'intent', 'intent.summary', 'summary', 'string', true),
    session_graph.ir_field(ir -> 'intent', 'intent.rationale', 'rationale', 'string?', false),
    session_graph.ir_holes_problem(ir -> 'intent', 'intent'),
    session_graph.ir_field(ir, 'signature', 'signature', 'object', true),
    session_graph.ir_field(ir -> 'signature', 'signature.name', 'name', 'string', true),
    session_graph.ir_field(ir -> 'signature', 'signature.parameters', 'parameters', 'array', false),
    session_graph.ir_field(ir -> 'signature', 'signature.returns', 'returns', 'string?', false),
    session_graph.ir_holes_problem(ir -> 'signature', 'signature'),
    session_graph.ir_field(ir, 'effects', 'effects', 'array', false),
    session_graph.ir_field(ir, 'assertions', 'assertions', 'array', false),
    session_graph.ir_field(ir, 'relationships', 'relationships', 'array', false),
    session_graph.ir_field(ir, 'constraints', 'constraints', 'array', false),
    session_graph.ir_field(ir, 'metadata', 'metadata', 'object', true),
    session_graph.ir_field(ir -> 'metadata', 'metadata.source_path', 'source_path', 'string?', false),
    session_graph.ir_field(ir -> 'metadata', 'metadata.language', 'language', 'string', true),
    session_graph.ir_field(ir -> 'metadata', 'metadata.origin', 'origin', 'string', true),
    session_graph.ir_field(ir -> 'metadata', 'metadata.evidence', 'evidence', 'array', false)
  );
  if problem is not null then
    return problem;
  end if;

  for item in
    select p.value, p.ordinality - 1 as i
      from pg_catalog.jsonb_array_elements(coalesce(ir -> 'signature' -> 'parameters', '[]'))
           with ordinality p
  loop
    clause := pg_catalog.format('signature.parameters[%s]', item.i);
    problem := coalesce(
      session_graph.ir_field(item.value, clause, null, 'object', true),
      session_graph.ir_field(item.value, clause || '.name', 'name', 'string', true),
      session_graph.ir_field(item.value, clause || '.type_hint', 'type_hint', 'string', true),
      session_graph.ir_field(item.value, clause || '.description', 'description', 'string?', false)
    );
    if problem is not null then
      return problem;
    end if;
  end loop;

  for item in
    select c.name, e.value, e.ordinality - 1 as i
      from (values (1, 'effects'), (2, 'assertions'), (3, 'relationships'), (4, 'constraints'))
           c(position, name)
      cross join lateral pg_catalog.jsonb_array_elements(coalesce(ir -> c.name, '[]'))
           with ordinality e
     order by c.position, e.ordinality
  loop
    clause := pg_catalog.format('%s[%s]', item.name, item.i);
    problem := coalesce(
      session_graph.ir_field(item.value, clause, null, 'object', true),
      case item.name
        when 'effects' then
          session_graph.ir_field(item.value, clause || '.description', 'description', 'string', true)
        when 'assertions' then coalesce(
          session_graph.ir_field(item.value, clause || '.predicate', 'predicate', 'string', true),
          session_graph.ir_field(item.value, clause || '.rationale', 'rationale', 'string?', false))
      end,
      session_graph.ir_holes_problem(item.value, clause)
    );
    if problem is not null then
      return problem;
    end if;
  end loop;
  return null;
end
$$;

-- One key of an IR object: `kind` is object, array, string or string? (string or null);
-- with `key` null, `node` itself is checked.
create function session_graph.ir_field(
  node jsonb, path text, key text, kind text, required boolean
) returns text
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
declare
  value jsonb := case when key is null then node else node -> key end;
  actual text := pg_catalog.jsonb_typeof(value);
begin
  if value is null then
    return case when required then path || ': is required' end;
  end if;
  if kind = 'string?' then
    return case when actual not in ('string', 'null') then path || ': must be a string or null' end;
  end if;
  if actual is distinct from kind then
    return pg_catalog.format('%s: must be %s %s', path,
      case when kind = 'object' or kind = 'array' then 'an' else 'a' end, kind);
  end if;
  return null;
end
$$;

-- The holes of one clause (`node.holes`, optional), each a typed hole.
create function session_graph.ir_holes_problem(node jsonb, path text) returns text
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
declare
  hole record;
  at text;
  problem text;
begin
  problem := session_graph.ir_field(node, path || '.holes', 'holes', 'array', false);
  if problem is not null or node -> 'holes' is null then
    return problem;
  end if;
  for hole in
    select h.value, h.ordinality - 1 as i
      from pg_catalog.jsonb_array_elements(node -> 'holes') with ordinality h
  loop
    at := pg_catalog.format('%s.holes[%s]', path, hole.i);
    problem := coalesce(
      session_graph.ir_field(hole.value, at, null, 'object', true),
      session_graph.ir_field(hole.value, at || '.identifier', 'identifier', 'string', true),
      session_graph.ir_field(hole.value, at || '.type_hint', 'type_hint', 'string', true),
      session_graph.ir_field(hole.value, at || '.description', 'description', 'string', false),
      session_graph.ir_field(hole.value, at || '.constraints', 'constraints', 'object', false),
      session_graph.ir_field(hole.value, at || '.kind', 'kind', 'string', true)
    );
    if problem is not null then
      return problem;
    end if;
    if session_graph.is_blank(hole.value ->> 'identifier')
       or pg_catalog.char_length(hole.value ->> 'identifier') > 200 then
      return at || '.identifier: must be 1 to 200 characters, not blank';
    end if;
    if not (hole.value ->> 'kind' operator(pg_catalog.=) any
            ('{intent,signature,effect,assertion,implementation}'::text[])) then
      return at || '.kind: must be one of intent, signature, effect, assertion, implementation';
    end if;
    if exists (select 1 from pg_catalog.jsonb_each(coalesce(hole.value -> 'constraints', '{}')) c
                where pg_catalog.jsonb_typeof(c.value) <> 'string') then
      return at || '.constraints: every value must be a string';
    end if;
  end loop;
  return null;
end
$$;

-- Every typed hole of an IR, in IR order: intent, signature, effects, assertions, then the
-- optional relationships and constraints, each clause's holes in their order. `path` says
-- where the hole sits ("signature", "effects[0]", "assertions[2]").
create function session_graph.ir_holes(ir jsonb)
  returns table (ordinal integer, path text, hole jsonb)
  language sql immutable parallel safe
  set search_path = ''
begin atomic
  select (pg_catalog.row_number() over (order by c.position, e.ordinality, h.ordinality))::integer,
         case when c.is_list then pg_catalog.format('%s[%s]', c.name, e.ordinality - 1)
              else c.name end,
         h.value
    from (values (1, 'intent', false), (2, 'signature', false), (3, 'effects', true),
                 (4, 'assertions', true), (5, 'relationships', true), (6, 'constraints', true))
         c(position, name, is_list)
   cross join lateral pg_catalog.jsonb_array_elements(
           case when not c.is_list then pg_catalog.jsonb_build_array(ir -> c.name)
                when pg_catalog.jsonb_typeof(ir -> c.name) = 'array' then ir -> c.name
                else '[]'::jsonb end) with ordinality e
   cross join lateral pg_catalog.jsonb_array_elements(
           case when pg_catalog.jsonb_typeof(e.value -> 'holes') = 'array' then e.value -> 'holes'
                else '[]'::jsonb end) with ordinality h
   order by 1;
end;

-- The identifiers of an IR's holes, in IR order, each once (the first occurrence wins).
create function session_graph.ir_hole_identifiers(ir jsonb) returns text[]
  language sql immutable parallel safe
  set search_path = ''
begin atomic
  select coalesce(pg_catalog.array_agg(identifier order by first), '{}')
    from (select h.hole ->> 'identifier' as identifier, min(h.ordinal) as first
            from session_graph.ir_holes(ir) h
           where pg_catalog.jsonb_typeof(h.hole -> 'identifier') = 'string'
           group by 1) found;
end;

-- A session's own fields, as a client writes them.
create function session_graph.check_session_fields(
  source text, title text, metadata jsonb, idempotency_key text
) returns void
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
begin
  perform session_graph.check_choice(source, 'source', '{prompt,reverse_mode}');
  perform session_graph.check_text(title, 'title', 500, false);
  perform session_graph.check_json(metadata, 'metadata', 'object');
  perform session_graph.check_text(idempotency_key, 'idempotencyKey', 255, false);
end
$$;

create function session_graph.check_revision_fields(
  content text, revision_type text, target_hole text, metadata jsonb
) returns void
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
begin
  perform session_graph.check_text(content, 'content', 100000);
  perform session_graph.check_choice(revision_type, 'the revision type',
    '{initial,hole_fill,constraint_add,manual_edit}');
  perform session_graph.check_text(target_hole, 'targetHole', 200, false);
  if revision_type = 'hole_fill' and target_hole is null then
    perform session_graph.refuse('BAD_USER_INPUT', 'a HOLE_FILL revision names its targetHole');
  end if;
  perform session_graph.check_json(metadata, 'metadata', 'object');
end
$$;

create function session_graph.check_resolution_fields(
  hole_id text, resolution_text text, resolution_type text, metadata jsonb
) returns void
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
begin
  perform session_graph.check_text(hole_id, 'holeId', 200);
  perform session_graph.check_text(resolution_text, 'text', 100000);
  perform session_graph.check_choice(resolution_type, 'the resolution type',
    '{clarify_intent,add_constraint,refine_signature,specify_effect}');
  perform session_graph.check_json(metadata, 'metadata', 'object');
end
$$;

-- A draft's fields; returns its ambiguities: the IR's holes when none are given (null),
-- else the ones given, each of which must be a hole of the IR (a draft may list fewer
-- holes than its IR has: those still open, as lift-sys's own drafts do).
create function session_graph.check_draft_fields(
  ir jsonb, validation_status text, smt_results jsonb, ambiguities text[], metadata jsonb
) returns text[]
  language plpgsql immutable parallel safe
  set search_path = ''
as $$
declare
  problem text;
  holes text[];
  unknown text;
begin
  if ir is null then
    perform session_graph.refuse('BAD_USER_INPUT', 'ir is required');
  end if;
  perform session_graph.check_json(ir, 'ir', 'object');
  problem := session_graph.ir_problem(ir);
  if problem is not null then
    perform session_graph.refuse('BAD_USER_INPUT', 'ir is not a valid IR: ' || problem);
  end if;
  perform session_graph.check_choice(validation_status, 'validationStatus',
    '{pending,valid,contradictory,incomplete}');
  perform session_graph.check_json(smt_results, 'smtResults', 'array');
  if exists (
    select 1 from pg_catalog.jsonb_array_elements(smt_results) r
     where pg_catalog.jsonb_typeof(r.value) <> 'object'
        or pg_catalog.jsonb_typeof(r.value -> 'predicate') is distinct from 'string'
        or pg_catalog.jsonb_typeof(r.value -> 'status') is distinct from 'string'
  ) then
    perform session_graph.refuse('BAD_USER_INPUT',
      'smtResults must be objects with a string predicate and a string status');
  end if;
  perform session_graph.check_json(metadata, 'draft metadata', 'object');

  holes := session_graph.ir_hole_identifiers(ir);
  if ambiguities is null then
    return holes;
  end if;
  select a into unknown from pg_catalog.unnest(ambiguities) a
   where a is null or not (a operator(pg_catalog.=) any (holes)) limit 1;
  if found then
    perform session_graph.refuse('BAD_USER_INPUT', pg_catalog.format(
      'ambiguities name "%s", which is not a hole of the IR', unknown));
  end if;
  -- Each once, in IR order.
  return array(select h from pg_catalog.unnest(holes) with ordinality u(h, n)
                where h operator(pg_catalog.=) any (ambiguities) order by n);
end
$$;

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
-- Every hole object of an IR's clauses, in IR order, as one JSON array.
create function session_graph.ir_hole_list(ir jsonb) returns jsonb
  language sql immutable parallel safe
return pg_catalog.jsonb_path_query_array(ir, 'strict $.intent.holes[*]', '{}', true)
    || pg_catalog.jsonb_path_query_array(ir, 'strict $.signature.holes[*]', '{}', true)
    || pg_catalog.jsonb_path_query_array(ir, 'strict $.effects[*].holes[*]', '{}', true)
    || pg_catalog.jsonb_path_query_array(ir, 'strict $.assertions[*].holes[*]', '{}', true)
    || pg_catalog.jsonb_path_query_array(ir, 'strict $.relationships[*].holes[*]', '{}', true)
    || pg_catalog.jsonb_path_query_array(ir, 'strict $.constraints[*].holes[*]', '{}', true);

-- One key of an IR object, `kind` being object, array, string or string? (string or null);
-- with `key` null, `node` itself. A plain SQL expression, so Postgres inlines it where it
-- is used (the IR is checked on every draft written).
create function session_graph.ir_field(
  node jsonb, path text, key text, kind text, required boolean
) returns text
  language sql immutable parallel safe
return case
  when (case when key is null then node else node operator(pg_catalog.->) key end) is null then
    case when required then path operator(pg_catalog.||) ': is required' end
  when kind = 'string?' then
    case when pg_catalog.jsonb_typeof(
                case when key is null then node else node operator(pg_catalog.->) key end)
              not in ('string', 'null')
         then path operator(pg_catalog.||) ': must be a string or null' end
  when pg_catalog.jsonb_typeof(
         case when key is null then node else node operator(pg_catalog.->) key end) <> kind then
    pg_catalog.format('%s: must be %s %s', path,
      case when kind in ('object', 'array') then 'an' else 'a' end, kind)
end;

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
  set plan_cache_mode = force_generic_plan
as $$
declare
  problem text;
begin
  if ir is null or pg_catalog.jsonb_typeof(ir) <> 'object' then
    return '(root): must be a JSON object';
  end if;
  problem := coalesce(
    session_graph.ir_field(ir, 'intent', 'intent', 'object', true),
    session_graph.ir_field(ir -> 'intent', 'intent.summary', 'summary', 'string', true),
    session_graph.ir_field(ir -> 'intent', 'intent.rationale', 'rationale', 'string?', false),
    session_graph.ir_field(ir -> 'intent', 'intent.holes', 'holes', 'array', false),
    session_graph.ir_field(ir, 'signature', 'signature', 'object', true),
    session_graph.ir_field(ir -> 'signature', 'signature.name', 'name', 'string', true),
    session_graph.ir_field(ir -> 'signature', 'signature.parameters', 'parameters', 'array', false),
    session_graph.ir_field(ir -> 'signature', 'signature.returns', 'returns', 'string?', false),
    session_graph.ir_field(ir -> 'signature', 'signature.holes', 'holes', 'array', false),
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

  -- The signature's parameters, then the listed clauses, in IR order.
  select issue into problem from (
    select 0 as clause, p.ordinality as item, coalesce(
        session_graph.ir_field(p.value, at, null, 'object', true),
        session_graph.ir_field(p.value, at || '.name', 'name', 'string', true),
        session_graph.ir_field(p.value, at || '.type_hint', 'type_hint', 'string', true),
        session_graph.ir_field(p.value, at || '.description', 'description', 'string?', false)
      ) as issue
      from pg_catalog.jsonb_array_elements(coalesce(ir -> 'signature' -> 'parameters', '[]'))
           with ordinality p
     cross join lateral (select pg_catalog.format('signature.parameters[%s]', p.ordinality - 1) as at) w
    union all
    select c.position, e.ordinality, coalesce(
        session_graph.ir_field(e.value, at, null, 'object', true),
        case c.name
          when 'effects' then
            session_graph.ir_field(e.value, at || '.description', 'description', 'string', true)
          when 'assertions' then coalesce(
            session_graph.ir_field(e.value, at || '.predicate', 'predicate', 'string', true),
            session_graph.ir_field(e.value, at || '.rationale', 'rationale', 'string?', false))
        end,
        session_graph.ir_field(e.value, at || '.holes', 'holes', 'array', false)
      )
      from (values (1, 'effects'), (2, 'assertions'), (3, 'relationships'), (4, 'constraints'))
           c(position, name)
     cross join lateral pg_catalog.jsonb_array_elements(coalesce(ir -> c.name, '[]'))
           with ordinality e
     cross join lateral (select pg_catalog.format('%s[%s]', c.name, e.ordinality - 1) as at) w
  ) checked
   where issue is not null
   order by clause, item
   limit 1;
  if problem is not null then
    return problem;
  end if;

  -- Every hole, wherever it sits.
  select issue into problem from (
    select h.ordinal, coalesce(
        session_graph.ir_field(h.hole, at, null, 'object', true),
        session_graph.ir_field(h.hole, at || '.identifier', 'identifier', 'string', true),
        session_graph.ir_field(h.hole, at || '.type_hint', 'type_hint', 'string', true),
        session_graph.ir_field(h.hole, at || '.description', 'description', 'string', false),
        session_graph.ir_field(h.hole, at || '.constraints', 'constraints', 'object', false),
        session_graph.ir_field(h.hole, at || '.kind', 'kind', 'string', true),
        case when session_graph.is_blank(h.hole ->> 'identifier')
                  or pg_catalog.char_length(h.hole ->> 'identifier') > 200
             then at || '.identifier: must be 1 to 200 characters, not blank' end,
        case when not (h.hole ->> 'kind' = any
                       ('{intent,signature,effect,assertion,implementation}'::text[]))
             then at || '.kind: must be one of intent, signature, effect, assertion, implementation'
        end,
        case when exists (select 1 from pg_catalog.jsonb_each(coalesce(h.hole -> 'constraints', '{}')) k
                           where pg_catalog.jsonb_typeof(k.value) <> 'string')
             then at || '.constraints: every value must be a string' end
      ) as issue
      from session_graph.ir_holes(ir) h
     cross join lateral (select pg_catalog.format('%s.holes[%s]', h.path, h.place) as at) w
  ) checked
   where issue is not null
   order by ordinal
   limit 1;
  return problem;
end
$$;

-- Whether `ir` is a lift-sys IR: the same rules as ir_problem, as jsonpath predicates (a
-- few C calls instead of a walk in PL/pgSQL), so the usual case, a valid IR, is cheap;
-- ir_problem then says what is wrong only when something is. test_record_rules.py checks
-- that the two, and lift-sys's own models, agree on generated IRs. (Lax mode: a missing
-- key gives an empty sequence, and `.type()` applies to an array itself; strict mode,
-- for what lax mode would unwrap.)
create function session_graph.ir_is_valid(ir jsonb) returns boolean
  language sql immutable parallel safe
return pg_catalog.jsonb_typeof(ir) = 'object'
  and coalesce(pg_catalog.jsonb_path_match(ir, '
        $.intent.type() == "object" && $.intent.summary.type() == "string"
     && $.signature.type() == "object" && $.signature.name.type() == "string"
     && $.metadata.type() == "object" && $.metadata.language.type() == "string"
     && $.metadata.origin.type() == "string"', '{}', true), false)
  and not coalesce(pg_catalog.jsonb_path_exists(ir, '$ ? (
        ($.intent.rationale.type() != "string" && $.intent.rationale.type() != "null")
     || $.intent.holes.type() != "array"
     || $.signature.parameters.type() != "array"
     || ($.signature.returns.type() != "string" && $.signature.returns.type() != "null")
     || $.signature.holes.type() != "array"
     || $.effects.type() != "array" || $.assertions.type() != "array"
     || $.relationships.type() != "array" || $.constraints.type() != "array"
     || ($.metadata.source_path.type() != "string" && $.metadata.source_path.type() != "null")
     || $.metadata.evidence.type() != "array"
     || exists($.signature.parameters[*] ? (
             @.type() != "object" || !(@.name.type() == "string")
          || !(@.type_hint.type() == "string")
          || (@.description.type() != "string" && @.description.type() != "null")))
     || exists($.effects[*] ? (
             @.type() != "object" || !(@.description.type() == "string")
          || @.holes.type() != "array"))
     || exists($.assertions[*] ? (
             @.type() != "object" || !(@.predicate.type() == "string")
          || (@.rationale.type() != "string" && @.rationale.type() != "null")
          || @.holes.type() != "array"))
     || exists($.relationships[*] ? (@.type() != "object" || @.holes.type() != "array"))
     || exists($.constraints[*] ? (@.type() != "object" || @.holes.type() != "array")))',
     '{}', true), true)
  -- Strict mode, where a filter does not unwrap an array: a list item that is an array.
  and not coalesce(pg_catalog.jsonb_path_exists(ir, 'strict $ ? (
        exists($.signature.parameters[*] ? (@.type() != "object"))
     || exists($.effects[*] ? (@.type() != "object"))
     || exists($.assertions[*] ? (@.type() != "object"))
     || exists($.relationships[*] ? (@.type() != "object"))
     || exists($.constraints[*] ? (@.type() != "object")))', '{}', true), true)
  and not coalesce(pg_catalog.jsonb_path_exists(session_graph.ir_hole_list(ir), 'strict $[*] ? (
        @.type() != "object" || exists(@.constraints.* ? (@.type() != "string")))',
     '{}', true), true)
  and not coalesce(pg_catalog.jsonb_path_exists(session_graph.ir_hole_list(ir), '$[*] ? (
        @.type() != "object" || !(@.identifier.type() == "string")
     || !(@.type_hint.type() == "string") || @.description.type() != "string"
     || @.constraints.type() != "object"
     || !(@.kind.type() == "string")
     || !(@.kind == "intent" || @.kind == "signature" || @.kind == "effect"
          || @.kind == "assertion" || @.kind == "implementation")
     || @.identifier like_regex "^.{201}" flag "s"
     || @.identifier like_regex "^[ \\t\\n\\r\\v\\f\\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*$")',
     '{}', true), true);

-- Every typed hole of an IR, in IR order: intent, signature, effects, assertions, then the
-- optional relationships and constraints, each clause's holes in their order. `path` says
-- which clause holds the hole ("signature", "effects[0]", "assertions[2]"), `place`
-- where in that clause's holes.
create function session_graph.ir_holes(ir jsonb)
  returns table (ordinal integer, path text, place integer, hole jsonb)
  language sql immutable parallel safe
  set search_path = ''
begin atomic
  select (pg_catalog.row_number() over (order by c.position, e.ordinality, h.ordinality))::integer,
         case when c.is_list then pg_catalog.format('%s[%s]', c.name, e.ordinality - 1)
              else c.name end,
         (h.ordinality - 1)::integer,
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
    from (select h.value ->> 'identifier' as identifier, min(h.ordinality) as first
            from pg_catalog.jsonb_array_elements(session_graph.ir_hole_list(ir)) with ordinality h
           where pg_catalog.jsonb_typeof(h.value -> 'identifier') = 'string'
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
  if not session_graph.ir_is_valid(ir) then
    problem := coalesce(session_graph.ir_problem(ir), '(root): not an IR');
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

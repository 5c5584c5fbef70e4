-- The hole walk is read on every `holes` and `openHoles` the compiled reads answer, so
-- let Postgres inline it into the statement that calls it (about half its cost): a SQL
-- function is inlined only without a SET clause. The body is SQL-standard (`begin
-- atomic`), parsed and bound to its objects when it was created, so the search_path at
-- call time cannot change what it refers to; the SET clause guarded nothing. `rows 10`:
-- an IR has a handful of holes, not the thousand the planner assumes of a function.
alter function session_graph.ir_holes(jsonb) reset search_path;
alter function session_graph.ir_holes(jsonb) rows 10;

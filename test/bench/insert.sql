-- insert.sql - pgbench's side of the durable-write benchmark (scripts/bench).
-- One one-row INSERT per transaction into a scratch table: the commit rate
-- PostgreSQL itself reaches on this machine, the ceiling carebridge is compared with.
\set v random(1, 1000000)
INSERT INTO bench_insert (v) VALUES (:v);

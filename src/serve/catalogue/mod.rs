//! The catalogue BI tools and drivers read: `pg_catalog` and
//! `information_schema` as a PostgreSQL 16 server would answer them, about
//! what this user's door serves and nothing else.
//!
//! DuckDB has `pg_catalog` views of its own, but its `pg_attribute` holds
//! DuckDB's type ids where `pg_type` holds PostgreSQL's (a driver that
//! joins them finds no type), `'pg_class'::regclass` does not parse, and
//! `version()` is not a PostgreSQL banner. So a query that names the
//! catalogue gets, on its own door, temporary relations and functions of
//! ours that shadow DuckDB's — PostgreSQL's oids and type names, made from
//! the door's own `duckdb_tables()`, `duckdb_views()` and
//! `duckdb_columns()` (a scoped or viewer door lists only what it serves)
//! — and its text rewritten where PostgreSQL's spelling differs
//! (`rewrite.rs`). Nothing here reads a row of a served table.
//!
//! Our tables are in schema `main` (DuckDB's name; `current_schema()` and
//! `search_path` say so too).

pub mod rewrite;

use super::session;

/// Names that make a query a catalogue query (besides any `pg_…` name).
const FUNCTIONS: &[&str] = &[
    "information_schema",
    "version",
    "current_schema",
    "current_schemas",
    "current_database",
    "current_catalog",
    "current_user",
    "session_user",
    "current_setting",
    "set_config",
    "format_type",
    "obj_description",
    "col_description",
    "shobj_description",
    "array_upper",
    "array_lower",
    "to_regclass",
    "regclass",
    "regtype",
    "regproc",
    "regnamespace",
];

/// Whether a query with these names (see [`rewrite::names`]) needs the
/// catalogue on its door.
pub fn named(names: &[String]) -> bool {
    names.iter().any(|name| {
        name.starts_with("pg_")
            || name.starts_with("has_")
            || name.starts_with("information_schema")
            || FUNCTIONS.contains(&name.as_str())
    })
}

/// PostgreSQL's base types the catalogue lists: oid, name, length,
/// category, array type's oid, input function.
const TYPES: &[(i64, &str, i64, &str, i64, &str)] = &[
    (16, "bool", 1, "B", 1000, "boolin"),
    (17, "bytea", -1, "U", 1001, "byteain"),
    (18, "char", 1, "Z", 1002, "charin"),
    (19, "name", 64, "S", 1003, "namein"),
    (20, "int8", 8, "N", 1016, "int8in"),
    (21, "int2", 2, "N", 1005, "int2in"),
    (23, "int4", 4, "N", 1007, "int4in"),
    (25, "text", -1, "S", 1009, "textin"),
    (26, "oid", 4, "N", 1028, "oidin"),
    (114, "json", -1, "U", 199, "json_in"),
    (700, "float4", 4, "N", 1021, "float4in"),
    (701, "float8", 8, "N", 1022, "float8in"),
    (1042, "bpchar", -1, "S", 1014, "bpcharin"),
    (1043, "varchar", -1, "S", 1015, "varcharin"),
    (1082, "date", 4, "D", 1182, "date_in"),
    (1083, "time", 8, "D", 1183, "time_in"),
    (1114, "timestamp", 8, "D", 1115, "timestamp_in"),
    (1184, "timestamptz", 8, "D", 1185, "timestamptz_in"),
    (1186, "interval", 16, "T", 1187, "interval_in"),
    (1700, "numeric", -1, "N", 1231, "numeric_in"),
    (2950, "uuid", 16, "U", 2951, "uuid_in"),
];

/// `pg_type`'s rows: the base types, their array types, and `unknown`.
fn pg_type_rows() -> String {
    let mut rows = Vec::new();
    let row = |oid: i64,
               name: &str,
               len: i64,
               category: &str,
               elem: i64,
               array: i64,
               input: &str| {
        let base = input.trim_end_matches("in").trim_end_matches('_');
        let sep = if input.ends_with("_in") { "_" } else { "" };
        format!(
            "({oid}, '{name}', 11, 10, {len}, {byval}, '{kind}', '{category}', false, true, ',', 0, {elem}, {array}, '{input}', '{base}{sep}out', '{base}{sep}recv', '{base}{sep}send', '-', '-', '-', '{align}', '{storage}', false, 0, -1, 0, {collation}, NULL, NULL, NULL)",
            byval = (1..=8).contains(&len),
            kind = if name == "unknown" { "p" } else { "b" },
            align = match len {
                1 => "c",
                2 => "s",
                4 => "i",
                _ => "d",
            },
            storage = if len < 0 { "x" } else { "p" },
            collation = if category == "S" { 100 } else { 0 },
        )
    };
    for &(oid, name, len, category, array, input) in TYPES {
        rows.push(row(oid, name, len, category, 0, array, input));
        rows.push(row(array, &format!("_{name}"), -1, "A", oid, 0, "array_in"));
    }
    rows.push(row(705, "unknown", -2, "X", 0, 0, "unknownin"));
    rows.join(",\n")
}

/// The statements that make the catalogue on a door for `user` (temporary
/// relations and macros; run before the query, after its other relations
/// such as `kpi_monthly`, which it lists).
pub fn setup(user: &str) -> String {
    let user = rewrite::literal(user);
    let settings: Vec<String> = session::SETTINGS
        .iter()
        .filter(|(name, _)| !name.contains(' '))
        .map(|(name, value)| {
            format!(
                "({}, {}, NULL, 'opskpi', '', NULL, 'user', 'string', 'default', NULL, NULL, NULL, {1}, {1}, NULL, NULL, false)",
                rewrite::literal(name),
                rewrite::literal(value)
            )
        })
        .collect();
    // A CASE, not a subquery: drivers call it inside table functions.
    let current_setting = format!(
        "CASE lower(setting_name) {} END",
        session::SETTINGS
            .iter()
            .map(|(name, value)| format!(
                "WHEN {} THEN {}",
                rewrite::literal(name),
                rewrite::literal(value)
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let version = rewrite::literal(&format!(
        "PostgreSQL 16.0 (opskpi {}; answers from DuckDB)",
        env!("CARGO_PKG_VERSION")
    ));
    SETUP
        .replace("{user}", &user)
        .replace("{version}", &version)
        .replace("{pg_type}", &pg_type_rows())
        .replace("{pg_settings}", &settings.join(",\n"))
        .replace("{current_setting}", &current_setting)
}

/// The catalogue itself. `{user}`, `{version}`, `{pg_type}`,
/// `{pg_settings}` and `{current_setting}` are filled by [`setup`].
const SETUP: &str = r#"
CREATE OR REPLACE TEMP TABLE pg_opskpi_relations AS
SELECT 16383 + row_number() OVER (ORDER BY name) AS oid, name, kind, comment, rows, definition, temporary FROM (
    SELECT table_name AS name, 'r' AS kind, comment, estimated_size AS rows, NULL AS definition, false AS temporary
    FROM duckdb_tables()
    WHERE NOT temporary AND NOT internal AND schema_name = 'main' AND database_name NOT IN ('system', 'temp')
    UNION ALL
    SELECT view_name, 'v', comment, NULL, sql, temporary
    FROM duckdb_views()
    WHERE NOT internal AND schema_name = 'main' AND (temporary OR database_name NOT IN ('system', 'temp'))
);
CREATE OR REPLACE TEMP TABLE pg_opskpi_columns AS
SELECT r.oid AS attrelid, r.name AS relname, r.kind, c.column_name AS attname, c.column_index AS attnum,
       CASE
           WHEN c.data_type = 'BOOLEAN' THEN 16
           WHEN c.data_type IN ('TINYINT', 'SMALLINT', 'UTINYINT') THEN 21
           WHEN c.data_type IN ('INTEGER', 'USMALLINT') THEN 23
           WHEN c.data_type IN ('BIGINT', 'UINTEGER') THEN 20
           WHEN c.data_type = 'FLOAT' THEN 700
           WHEN c.data_type = 'DOUBLE' THEN 701
           WHEN c.data_type LIKE 'DECIMAL%' OR c.data_type IN ('HUGEINT', 'UBIGINT') THEN 1700
           WHEN c.data_type = 'DATE' THEN 1082
           WHEN c.data_type = 'TIMESTAMP' THEN 1114
           WHEN c.data_type = 'TIMESTAMP WITH TIME ZONE' THEN 1184
           WHEN c.data_type = 'BLOB' THEN 17
           ELSE 25
       END AS atttypid,
       CASE WHEN c.data_type LIKE 'DECIMAL%' THEN (c.numeric_precision << 16 | c.numeric_scale) + 4 ELSE -1 END::INTEGER AS atttypmod,
       NOT c.is_nullable AS attnotnull, c.column_default, c.comment,
       CASE WHEN c.data_type LIKE 'DECIMAL%' THEN c.numeric_precision END AS numeric_precision,
       CASE WHEN c.data_type LIKE 'DECIMAL%' THEN c.numeric_scale END AS numeric_scale
FROM duckdb_columns() c JOIN pg_opskpi_relations r ON r.name = c.table_name
WHERE c.schema_name = 'main' AND c.database_name <> 'system' AND (c.database_name = 'temp') = r.temporary;

CREATE OR REPLACE TEMP TABLE pg_namespace AS
SELECT * FROM (VALUES (11::BIGINT, 'pg_catalog', 10::BIGINT, NULL::VARCHAR[]),
                      (2200, 'main', 10, NULL),
                      (13000, 'information_schema', 10, NULL))
    t(oid, nspname, nspowner, nspacl);
CREATE OR REPLACE TEMP TABLE pg_class AS
SELECT oid::BIGINT AS oid, name AS relname, 2200::BIGINT AS relnamespace, 0::BIGINT AS reltype, 0::BIGINT AS reloftype,
       10::BIGINT AS relowner, CASE kind WHEN 'r' THEN 2 ELSE 0 END::BIGINT AS relam, oid::BIGINT AS relfilenode,
       0::BIGINT AS reltablespace, 0 AS relpages, coalesce(rows, -1)::REAL AS reltuples, 0 AS relallvisible,
       0::BIGINT AS reltoastrelid, false AS relhasindex, false AS relisshared, 'p' AS relpersistence, kind AS relkind,
       (SELECT count(*) FROM pg_opskpi_columns c WHERE c.attrelid = r.oid)::SMALLINT AS relnatts, 0::SMALLINT AS relchecks,
       false AS relhasrules, false AS relhastriggers, false AS relhassubclass, false AS relrowsecurity,
       false AS relforcerowsecurity, true AS relispopulated, 'd' AS relreplident, false AS relispartition,
       0::BIGINT AS relrewrite, 0::BIGINT AS relfrozenxid, 0::BIGINT AS relminmxid, NULL::VARCHAR[] AS relacl,
       NULL::VARCHAR[] AS reloptions, NULL::VARCHAR AS relpartbound
FROM pg_opskpi_relations r;
CREATE OR REPLACE TEMP TABLE pg_type_base AS
SELECT * FROM (VALUES
{pg_type}
) t(oid, typname, typnamespace, typowner, typlen, typbyval, typtype, typcategory, typispreferred, typisdefined,
    typdelim, typrelid, typelem, typarray, typinput, typoutput, typreceive, typsend, typmodin, typmodout,
    typanalyze, typalign, typstorage, typnotnull, typbasetype, typtypmod, typndims, typcollation, typdefaultbin,
    typdefault, typacl);
-- The types' input, output, receive and send functions, by oid as in
-- PostgreSQL (Npgsql finds the array types by joining typreceive to them).
CREATE OR REPLACE TEMP TABLE pg_proc AS
SELECT (6000 + row_number() OVER (ORDER BY proname))::BIGINT AS oid, proname, 11::BIGINT AS pronamespace,
       10::BIGINT AS proowner, 12::BIGINT AS prolang, 1::REAL AS procost, 0::REAL AS prorows,
       0::BIGINT AS provariadic, '-' AS prosupport, 'f' AS prokind, false AS prosecdef, false AS proleakproof,
       true AS proisstrict, false AS proretset, 'i' AS provolatile, 's' AS proparallel, 1::SMALLINT AS pronargs,
       0::SMALLINT AS pronargdefaults, 0::BIGINT AS prorettype, []::BIGINT[] AS proargtypes,
       NULL::BIGINT[] AS proallargtypes, NULL::VARCHAR[] AS proargmodes, NULL::VARCHAR[] AS proargnames,
       NULL::VARCHAR AS proargdefaults, NULL::BIGINT[] AS protrftypes, proname AS prosrc, NULL::VARCHAR AS probin,
       NULL::VARCHAR AS prosqlbody, NULL::VARCHAR[] AS proconfig, NULL::VARCHAR[] AS proacl
FROM (SELECT DISTINCT unnest([typinput, typoutput, typreceive, typsend]) AS proname FROM pg_type_base);
CREATE OR REPLACE TEMP TABLE pg_type AS
SELECT b.oid::BIGINT AS oid, typname, typnamespace::BIGINT AS typnamespace, typowner::BIGINT AS typowner,
       typlen::SMALLINT AS typlen, typbyval, typtype, typcategory, typispreferred, typisdefined, typdelim,
       typrelid::BIGINT AS typrelid, 0::BIGINT AS typsubscript, typelem::BIGINT AS typelem,
       typarray::BIGINT AS typarray, i.oid AS typinput, o.oid AS typoutput, r.oid AS typreceive, s.oid AS typsend,
       0::BIGINT AS typmodin, 0::BIGINT AS typmodout, 0::BIGINT AS typanalyze,
       typalign, typstorage, typnotnull, typbasetype::BIGINT AS typbasetype, typtypmod::INTEGER AS typtypmod,
       typndims::INTEGER AS typndims, typcollation::BIGINT AS typcollation, typdefaultbin::VARCHAR AS typdefaultbin,
       typdefault::VARCHAR AS typdefault, typacl::VARCHAR[] AS typacl
FROM pg_type_base b
JOIN pg_proc i ON i.proname = b.typinput JOIN pg_proc o ON o.proname = b.typoutput
JOIN pg_proc r ON r.proname = b.typreceive JOIN pg_proc s ON s.proname = b.typsend;
CREATE OR REPLACE TEMP TABLE pg_attribute AS
SELECT attrelid::BIGINT AS attrelid, attname, atttypid::BIGINT AS atttypid, -1 AS attstattarget,
       (SELECT typlen FROM pg_type_base WHERE oid = atttypid)::SMALLINT AS attlen, attnum::SMALLINT AS attnum,
       0 AS attndims, -1 AS attcacheoff, atttypmod, false AS attbyval, 'p' AS attalign, 'x' AS attstorage,
       '' AS attcompression, attnotnull, column_default IS NOT NULL AS atthasdef, false AS atthasmissing,
       '' AS attidentity, '' AS attgenerated, false AS attisdropped, true AS attislocal, 0 AS attinhcount,
       CASE WHEN atttypid = 25 THEN 100 ELSE 0 END::BIGINT AS attcollation, NULL::VARCHAR[] AS attacl,
       NULL::VARCHAR[] AS attoptions, NULL::VARCHAR[] AS attfdwoptions, NULL::VARCHAR AS attmissingval
FROM pg_opskpi_columns;
CREATE OR REPLACE TEMP TABLE pg_description AS
SELECT oid::BIGINT AS objoid, 1259::BIGINT AS classoid, 0 AS objsubid, comment AS description
FROM pg_opskpi_relations WHERE comment IS NOT NULL AND comment <> ''
UNION ALL
SELECT attrelid, 1259, attnum, comment FROM pg_opskpi_columns WHERE comment IS NOT NULL AND comment <> '';
CREATE OR REPLACE TEMP TABLE pg_database AS
SELECT 16384::BIGINT AS oid, 'opskpi' AS datname, 10::BIGINT AS datdba, 6 AS encoding, 'c' AS datlocprovider,
       false AS datistemplate, true AS datallowconn, -1 AS datconnlimit, 0::BIGINT AS datfrozenxid,
       0::BIGINT AS datminmxid, 1663::BIGINT AS dattablespace, 'C' AS datcollate, 'C' AS datctype,
       NULL::VARCHAR AS daticulocale, NULL::VARCHAR AS daticurules, NULL::VARCHAR AS datcollversion,
       NULL::VARCHAR[] AS datacl;
CREATE OR REPLACE TEMP TABLE pg_roles AS
SELECT {user} AS rolname, false AS rolsuper, true AS rolinherit, false AS rolcreaterole, false AS rolcreatedb,
       true AS rolcanlogin, false AS rolreplication, -1 AS rolconnlimit, '********' AS rolpassword,
       NULL::TIMESTAMPTZ AS rolvaliduntil, false AS rolbypassrls, NULL::VARCHAR[] AS rolconfig, 10::BIGINT AS oid;
CREATE OR REPLACE TEMP TABLE pg_user AS
SELECT {user} AS usename, 10::BIGINT AS usesysid, false AS usecreatedb, false AS usesuper, false AS userepl,
       false AS usebypassrls, '********' AS passwd, NULL::TIMESTAMPTZ AS valuntil, NULL::VARCHAR[] AS useconfig;
CREATE OR REPLACE TEMP TABLE pg_settings AS
SELECT * FROM (VALUES
{pg_settings}
) t(name, setting, unit, category, short_desc, extra_desc, context, vartype, source, min_val, max_val, enumvals,
    boot_val, reset_val, sourcefile, sourceline, pending_restart);
CREATE OR REPLACE TEMP TABLE pg_tables AS
SELECT 'main' AS schemaname, name AS tablename, {user} AS tableowner, NULL::VARCHAR AS tablespace,
       false AS hasindexes, false AS hasrules, false AS hastriggers, false AS rowsecurity
FROM pg_opskpi_relations WHERE kind = 'r';
CREATE OR REPLACE TEMP TABLE pg_views AS
SELECT 'main' AS schemaname, name AS viewname, {user} AS viewowner, definition
FROM pg_opskpi_relations WHERE kind = 'v';
CREATE OR REPLACE TEMP TABLE pg_matviews (schemaname VARCHAR, matviewname VARCHAR, matviewowner VARCHAR,
    tablespace VARCHAR, hasindexes BOOLEAN, ispopulated BOOLEAN, definition VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_stat_user_tables AS
SELECT oid::BIGINT AS relid, 'main' AS schemaname, name AS relname, 0::BIGINT AS seq_scan,
       0::BIGINT AS seq_tup_read, 0::BIGINT AS idx_scan, 0::BIGINT AS idx_tup_fetch,
       coalesce(rows, 0)::BIGINT AS n_live_tup, 0::BIGINT AS n_dead_tup
FROM pg_opskpi_relations WHERE kind = 'r';
CREATE OR REPLACE TEMP TABLE pg_am AS
SELECT * FROM (VALUES (2::BIGINT, 'heap', 3::BIGINT, 't'), (403, 'btree', 330, 'i')) t(oid, amname, amhandler, amtype);
CREATE OR REPLACE TEMP TABLE pg_collation AS
SELECT * FROM (VALUES (100::BIGINT, 'default', 11::BIGINT, 10::BIGINT, 'd', true, -1, NULL::VARCHAR, NULL::VARCHAR))
    t(oid, collname, collnamespace, collowner, collprovider, collisdeterministic, collencoding, collcollate, collctype);
CREATE OR REPLACE TEMP TABLE pg_tablespace AS
SELECT * FROM (VALUES (1663::BIGINT, 'pg_default', 10::BIGINT, NULL::VARCHAR[], NULL::VARCHAR[])) t(oid, spcname, spcowner, spcacl, spcoptions);
CREATE OR REPLACE TEMP TABLE pg_attrdef (oid BIGINT, adrelid BIGINT, adnum SMALLINT, adbin VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_index (indexrelid BIGINT, indrelid BIGINT, indnatts SMALLINT, indnkeyatts SMALLINT,
    indisunique BOOLEAN, indnullsnotdistinct BOOLEAN, indisprimary BOOLEAN, indisexclusion BOOLEAN,
    indimmediate BOOLEAN, indisclustered BOOLEAN, indisvalid BOOLEAN, indcheckxmin BOOLEAN, indisready BOOLEAN,
    indislive BOOLEAN, indisreplident BOOLEAN, indkey SMALLINT[], indcollation BIGINT[], indclass BIGINT[],
    indoption SMALLINT[], indexprs VARCHAR, indpred VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_constraint (oid BIGINT, conname VARCHAR, connamespace BIGINT, contype VARCHAR,
    condeferrable BOOLEAN, condeferred BOOLEAN, convalidated BOOLEAN, conrelid BIGINT, contypid BIGINT,
    conindid BIGINT, conparentid BIGINT, confrelid BIGINT, confupdtype VARCHAR, confdeltype VARCHAR,
    confmatchtype VARCHAR, conislocal BOOLEAN, coninhcount INTEGER, connoinherit BOOLEAN, conkey SMALLINT[],
    confkey SMALLINT[], conpfeqop BIGINT[], conppeqop BIGINT[], conffeqop BIGINT[], confdelsetcols SMALLINT[],
    conexclop BIGINT[], conbin VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_inherits (inhrelid BIGINT, inhparent BIGINT, inhseqno INTEGER, inhdetachpending BOOLEAN);
CREATE OR REPLACE TEMP TABLE pg_enum (oid BIGINT, enumtypid BIGINT, enumsortorder REAL, enumlabel VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_range (rngtypid BIGINT, rngsubtype BIGINT, rngmultitypid BIGINT,
    rngcollation BIGINT, rngsubopc BIGINT, rngcanonical VARCHAR, rngsubdiff VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_trigger (oid BIGINT, tgrelid BIGINT, tgname VARCHAR, tgenabled VARCHAR, tgisinternal BOOLEAN);
CREATE OR REPLACE TEMP TABLE pg_rewrite (oid BIGINT, rulename VARCHAR, ev_class BIGINT, ev_type VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_depend (classid BIGINT, objid BIGINT, objsubid INTEGER, refclassid BIGINT,
    refobjid BIGINT, refobjsubid INTEGER, deptype VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_extension (oid BIGINT, extname VARCHAR, extowner BIGINT, extnamespace BIGINT,
    extrelocatable BOOLEAN, extversion VARCHAR, extconfig BIGINT[], extcondition VARCHAR[]);
CREATE OR REPLACE TEMP TABLE pg_policy (oid BIGINT, polname VARCHAR, polrelid BIGINT, polcmd VARCHAR,
    polpermissive BOOLEAN, polroles BIGINT[], polqual VARCHAR, polwithcheck VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_statistic_ext (oid BIGINT, stxrelid BIGINT, stxname VARCHAR, stxnamespace BIGINT,
    stxowner BIGINT, stxstattarget INTEGER, stxkeys SMALLINT[], stxkind VARCHAR[], stxexprs VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_publication (oid BIGINT, pubname VARCHAR, pubowner BIGINT, puballtables BOOLEAN,
    pubinsert BOOLEAN, pubupdate BOOLEAN, pubdelete BOOLEAN, pubtruncate BOOLEAN, pubviaroot BOOLEAN);
CREATE OR REPLACE TEMP TABLE pg_publication_rel (oid BIGINT, prpubid BIGINT, prrelid BIGINT, prqual VARCHAR, prattrs SMALLINT[]);
CREATE OR REPLACE TEMP TABLE pg_publication_namespace (oid BIGINT, pnpubid BIGINT, pnnspid BIGINT);
CREATE OR REPLACE TEMP TABLE pg_foreign_table (ftrelid BIGINT, ftserver BIGINT, ftoptions VARCHAR[]);
CREATE OR REPLACE TEMP TABLE pg_partitioned_table (partrelid BIGINT, partstrat VARCHAR, partnatts SMALLINT);
CREATE OR REPLACE TEMP TABLE pg_sequence (seqrelid BIGINT, seqtypid BIGINT, seqstart BIGINT, seqincrement BIGINT,
    seqmax BIGINT, seqmin BIGINT, seqcache BIGINT, seqcycle BOOLEAN);
CREATE OR REPLACE TEMP TABLE pg_event_trigger (oid BIGINT, evtname VARCHAR, evtevent VARCHAR, evtenabled VARCHAR);
CREATE OR REPLACE TEMP TABLE pg_replication_slots (slot_name VARCHAR, plugin VARCHAR, slot_type VARCHAR,
    datoid BIGINT, database VARCHAR, temporary BOOLEAN, active BOOLEAN);
CREATE OR REPLACE TEMP TABLE pg_stat_activity (datid BIGINT, datname VARCHAR, pid INTEGER, usename VARCHAR,
    application_name VARCHAR, state VARCHAR, query VARCHAR);

CREATE OR REPLACE TEMP TABLE information_schema_schemata AS
SELECT 'opskpi' AS catalog_name, nspname AS schema_name, {user} AS schema_owner,
       NULL::VARCHAR AS default_character_set_catalog, NULL::VARCHAR AS default_character_set_schema,
       NULL::VARCHAR AS default_character_set_name, NULL::VARCHAR AS sql_path
FROM pg_namespace;
CREATE OR REPLACE TEMP TABLE information_schema_tables AS
SELECT 'opskpi' AS table_catalog, 'main' AS table_schema, name AS table_name,
       CASE kind WHEN 'r' THEN 'BASE TABLE' ELSE 'VIEW' END AS table_type,
       NULL::VARCHAR AS self_referencing_column_name, NULL::VARCHAR AS reference_generation,
       NULL::VARCHAR AS user_defined_type_catalog, NULL::VARCHAR AS user_defined_type_schema,
       NULL::VARCHAR AS user_defined_type_name, 'NO' AS is_insertable_into, 'NO' AS is_typed,
       NULL::VARCHAR AS commit_action
FROM pg_opskpi_relations;
CREATE OR REPLACE TEMP TABLE information_schema_views AS
SELECT 'opskpi' AS table_catalog, 'main' AS table_schema, name AS table_name, definition AS view_definition,
       'NONE' AS check_option, 'NO' AS is_updatable, 'NO' AS is_insertable_into,
       'NO' AS is_trigger_updatable, 'NO' AS is_trigger_deletable, 'NO' AS is_trigger_insertable_into
FROM pg_opskpi_relations WHERE kind = 'v';
CREATE OR REPLACE TEMP TABLE information_schema_columns AS
SELECT 'opskpi' AS table_catalog, 'main' AS table_schema, relname AS table_name, attname AS column_name,
       attnum::INTEGER AS ordinal_position, column_default, CASE WHEN attnotnull THEN 'NO' ELSE 'YES' END AS is_nullable,
       CASE atttypid WHEN 16 THEN 'boolean' WHEN 21 THEN 'smallint' WHEN 23 THEN 'integer' WHEN 20 THEN 'bigint'
           WHEN 700 THEN 'real' WHEN 701 THEN 'double precision' WHEN 1700 THEN 'numeric' WHEN 1082 THEN 'date'
           WHEN 1114 THEN 'timestamp without time zone' WHEN 1184 THEN 'timestamp with time zone'
           WHEN 17 THEN 'bytea' ELSE 'text' END AS data_type,
       NULL::INTEGER AS character_maximum_length, CASE WHEN atttypid = 25 THEN 1073741824 END AS character_octet_length,
       CASE atttypid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
           WHEN 1700 THEN numeric_precision END::INTEGER AS numeric_precision,
       CASE WHEN atttypid IN (21, 23, 20, 700, 701) THEN 2 WHEN atttypid = 1700 THEN 10 END::INTEGER AS numeric_precision_radix,
       CASE WHEN atttypid IN (21, 23, 20) THEN 0 WHEN atttypid = 1700 THEN numeric_scale END::INTEGER AS numeric_scale,
       CASE WHEN atttypid = 1082 THEN 0 WHEN atttypid IN (1114, 1184) THEN 6 END::INTEGER AS datetime_precision,
       NULL::VARCHAR AS interval_type, NULL::INTEGER AS interval_precision,
       NULL::VARCHAR AS character_set_catalog, NULL::VARCHAR AS character_set_schema, NULL::VARCHAR AS character_set_name,
       NULL::VARCHAR AS collation_catalog, NULL::VARCHAR AS collation_schema, NULL::VARCHAR AS collation_name,
       NULL::VARCHAR AS domain_catalog, NULL::VARCHAR AS domain_schema, NULL::VARCHAR AS domain_name,
       'opskpi' AS udt_catalog, 'pg_catalog' AS udt_schema, (SELECT typname FROM pg_type_base WHERE oid = atttypid) AS udt_name,
       NULL::VARCHAR AS scope_catalog, NULL::VARCHAR AS scope_schema, NULL::VARCHAR AS scope_name,
       NULL::INTEGER AS maximum_cardinality, attnum::VARCHAR AS dtd_identifier, 'NO' AS is_self_referencing,
       'NO' AS is_identity, NULL::VARCHAR AS identity_generation, NULL::VARCHAR AS identity_start,
       NULL::VARCHAR AS identity_increment, NULL::VARCHAR AS identity_maximum, NULL::VARCHAR AS identity_minimum,
       NULL::VARCHAR AS identity_cycle, 'NEVER' AS is_generated, NULL::VARCHAR AS generation_expression,
       'NO' AS is_updatable
FROM pg_opskpi_columns;
CREATE OR REPLACE TEMP TABLE information_schema_table_constraints (constraint_catalog VARCHAR,
    constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR, table_schema VARCHAR,
    table_name VARCHAR, constraint_type VARCHAR, is_deferrable VARCHAR, initially_deferred VARCHAR,
    enforced VARCHAR, nulls_distinct VARCHAR);
CREATE OR REPLACE TEMP TABLE information_schema_key_column_usage (constraint_catalog VARCHAR,
    constraint_schema VARCHAR, constraint_name VARCHAR, table_catalog VARCHAR, table_schema VARCHAR,
    table_name VARCHAR, column_name VARCHAR, ordinal_position INTEGER, position_in_unique_constraint INTEGER);
CREATE OR REPLACE TEMP TABLE information_schema_referential_constraints (constraint_catalog VARCHAR,
    constraint_schema VARCHAR, constraint_name VARCHAR, unique_constraint_catalog VARCHAR,
    unique_constraint_schema VARCHAR, unique_constraint_name VARCHAR, match_option VARCHAR,
    update_rule VARCHAR, delete_rule VARCHAR);
CREATE OR REPLACE TEMP TABLE information_schema_routines (specific_catalog VARCHAR, specific_schema VARCHAR,
    specific_name VARCHAR, routine_catalog VARCHAR, routine_schema VARCHAR, routine_name VARCHAR,
    routine_type VARCHAR, data_type VARCHAR);

CREATE OR REPLACE TEMP MACRO version() AS {version};
CREATE OR REPLACE TEMP MACRO current_user() AS {user};
CREATE OR REPLACE TEMP MACRO session_user() AS {user};
CREATE OR REPLACE TEMP MACRO current_database() AS 'opskpi';
CREATE OR REPLACE TEMP MACRO current_catalog() AS 'opskpi';
CREATE OR REPLACE TEMP MACRO current_schema() AS 'main';
CREATE OR REPLACE TEMP MACRO current_schemas(implicit) AS
    CASE WHEN implicit THEN ['pg_catalog', 'main'] ELSE ['main'] END;
CREATE OR REPLACE TEMP MACRO current_setting(setting_name) AS {current_setting},
    (setting_name, missing_ok) AS {current_setting};
CREATE OR REPLACE TEMP MACRO set_config(name, value, is_local) AS value;
CREATE OR REPLACE TEMP MACRO pg_get_userbyid(id) AS {user};
CREATE OR REPLACE TEMP MACRO pg_encoding_to_char(encoding) AS 'UTF8';
CREATE OR REPLACE TEMP MACRO pg_backend_pid() AS 0;
CREATE OR REPLACE TEMP MACRO pg_is_in_recovery() AS false;
CREATE OR REPLACE TEMP MACRO txid_current() AS 1::BIGINT;
CREATE OR REPLACE TEMP MACRO pg_postmaster_start_time() AS TIMESTAMPTZ '2000-01-01 00:00:00+00';
CREATE OR REPLACE TEMP MACRO format_type(t, m) AS
    CASE
        WHEN t IS NULL THEN NULL
        WHEN t = 1700 AND m >= 4 THEN 'numeric(' || ((m - 4) >> 16) || ',' || ((m - 4) & 65535) || ')'
        ELSE coalesce((SELECT CASE typname
                                  WHEN 'int2' THEN 'smallint' WHEN 'int4' THEN 'integer' WHEN 'int8' THEN 'bigint'
                                  WHEN 'float4' THEN 'real' WHEN 'float8' THEN 'double precision'
                                  WHEN 'bool' THEN 'boolean' WHEN 'varchar' THEN 'character varying'
                                  WHEN 'bpchar' THEN 'character' WHEN 'timestamp' THEN 'timestamp without time zone'
                                  WHEN 'timestamptz' THEN 'timestamp with time zone'
                                  WHEN 'time' THEN 'time without time zone'
                                  ELSE typname END
                       FROM pg_type_base WHERE oid = t), '???')
    END;
CREATE OR REPLACE TEMP MACRO obj_description(id) AS
    (SELECT description FROM pg_description WHERE objoid = id AND objsubid = 0),
    (id, catalog) AS (SELECT description FROM pg_description WHERE objoid = id AND objsubid = 0);
CREATE OR REPLACE TEMP MACRO col_description(id, column_number) AS
    (SELECT description FROM pg_description WHERE objoid = id AND objsubid = column_number);
CREATE OR REPLACE TEMP MACRO shobj_description(id, catalog) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_expr(expr, relation) AS NULL::VARCHAR, (expr, relation, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_viewdef(view) AS (SELECT definition FROM pg_opskpi_relations WHERE oid = view),
    (view, pretty) AS (SELECT definition FROM pg_opskpi_relations WHERE oid = view);
CREATE OR REPLACE TEMP MACRO pg_get_indexdef(index) AS NULL::VARCHAR,
    (index, column_number, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_constraintdef(constraint_oid) AS NULL::VARCHAR,
    (constraint_oid, pretty) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_partkeydef(relation) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_statisticsobjdef_columns(id) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_function_result(id) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_function_arguments(id) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_get_function_identity_arguments(id) AS NULL::VARCHAR;
CREATE OR REPLACE TEMP MACRO pg_relation_is_publishable(relation) AS false;
CREATE OR REPLACE TEMP MACRO pg_table_is_visible(relation) AS true;
CREATE OR REPLACE TEMP MACRO pg_type_is_visible(type_oid) AS true;
CREATE OR REPLACE TEMP MACRO pg_function_is_visible(function_oid) AS true;
CREATE OR REPLACE TEMP MACRO pg_relation_size(relation) AS 0::BIGINT, (relation, fork) AS 0::BIGINT;
CREATE OR REPLACE TEMP MACRO pg_total_relation_size(relation) AS 0::BIGINT;
CREATE OR REPLACE TEMP MACRO pg_table_size(relation) AS 0::BIGINT;
CREATE OR REPLACE TEMP MACRO pg_indexes_size(relation) AS 0::BIGINT;
CREATE OR REPLACE TEMP MACRO pg_database_size(database) AS 0::BIGINT;
CREATE OR REPLACE TEMP MACRO pg_tablespace_location(tablespace) AS '';
CREATE OR REPLACE TEMP MACRO pg_stat_get_numscans(relation) AS 0::BIGINT;
CREATE OR REPLACE TEMP MACRO to_regclass(relation_name) AS (SELECT oid FROM pg_class WHERE relname = relation_name);
CREATE OR REPLACE TEMP MACRO pg_opskpi_relation_name(id) AS
    coalesce((SELECT relname FROM pg_class WHERE oid = id), id::VARCHAR);
CREATE OR REPLACE TEMP MACRO pg_opskpi_proc_name(id) AS
    coalesce((SELECT proname FROM pg_proc WHERE oid = id), id::VARCHAR);
CREATE OR REPLACE TEMP MACRO pg_opskpi_type_name(id) AS format_type(id, NULL);
CREATE OR REPLACE TEMP MACRO pg_opskpi_namespace_name(id) AS
    coalesce((SELECT nspname FROM pg_namespace WHERE oid = id), id::VARCHAR);
CREATE OR REPLACE TEMP MACRO quote_ident(name) AS
    CASE WHEN regexp_full_match(name, '[a-z_][a-z0-9_$]*') THEN name ELSE '"' || replace(name, '"', '""') || '"' END;
CREATE OR REPLACE TEMP MACRO parse_ident(name) AS string_split(name, '.'), (name, strict) AS string_split(name, '.');
CREATE OR REPLACE TEMP MACRO pg_partition_ancestors(relation) AS relation::BIGINT;
CREATE OR REPLACE TEMP MACRO array_upper(list, dimension) AS CASE WHEN len(list) > 0 THEN len(list) END;
CREATE OR REPLACE TEMP MACRO array_lower(list, dimension) AS CASE WHEN len(list) > 0 THEN 1 END;
CREATE OR REPLACE TEMP MACRO has_table_privilege(a, b) AS true, (a, b, c) AS true;
CREATE OR REPLACE TEMP MACRO has_schema_privilege(a, b) AS true, (a, b, c) AS true;
CREATE OR REPLACE TEMP MACRO has_database_privilege(a, b) AS true, (a, b, c) AS true;
CREATE OR REPLACE TEMP MACRO has_column_privilege(a, b, c) AS true, (a, b, c, d) AS true;
CREATE OR REPLACE TEMP MACRO has_any_column_privilege(a, b) AS true, (a, b, c) AS true;
CREATE OR REPLACE TEMP MACRO has_sequence_privilege(a, b) AS true, (a, b, c) AS true;
CREATE OR REPLACE TEMP MACRO has_function_privilege(a, b) AS true, (a, b, c) AS true;
CREATE OR REPLACE TEMP MACRO pg_has_role(a, b) AS false, (a, b, c) AS false;
CREATE OR REPLACE TEMP MACRO pg_get_keywords() AS TABLE
    SELECT keyword_name AS word,
           CASE keyword_category WHEN 'reserved' THEN 'R' WHEN 'unreserved' THEN 'U'
                WHEN 'type_function' THEN 'T' ELSE 'C' END AS catcode,
           true AS barelabel, keyword_category AS catdesc, 'can be bare label' AS baredesc
    FROM duckdb_keywords();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_queries_are_told_from_questions() {
        let named = |sql: &str| named(&rewrite::names(sql));
        assert!(named("SELECT * FROM pg_catalog.pg_class"));
        assert!(named("select version()"));
        assert!(named("SELECT * FROM information_schema.tables"));
        assert!(!named("SELECT * FROM sales WHERE note = 'pg_class'"));
        assert!(!named(
            "SELECT region, value FROM kpi('net_sales', '2026-10', by := 'region')"
        ));
    }
}

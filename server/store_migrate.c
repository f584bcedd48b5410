/*
 * store_migrate.c - applying migrations and reading the schema version.
 *
 * Owns: the schema_migrations table and the SQL that reads and writes it.
 * migrate_run uses blocking libpq on purpose: it runs from the command line or
 * before serve's event loop starts, never on the loop.  Migrations are the
 * schema owner's job: the application role serve runs as may not create
 * objects (migration 0018), and migrate_run says so plainly instead of
 * failing on the first CREATE.
 */
#include "store_migrate.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "embedded.h"
#include "log.h"
#include "xmalloc.h"

/* Creates the bookkeeping table if this database has never been migrated. */
static const char SQL_MIGRATIONS_TABLE[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
					   " version integer PRIMARY KEY,"
					   " name text NOT NULL,"
					   " applied_at timestamptz NOT NULL DEFAULT now())";

/* Serialises concurrent migrators (several serve processes starting at once). */
static const char SQL_MIGRATIONS_LOCK[] = "SELECT pg_advisory_lock(7262270001)";
static const char SQL_MIGRATIONS_UNLOCK[] = "SELECT pg_advisory_unlock(7262270001)";

/*
 * Returns one row: the role connected, the schema new objects go to (NULL if
 * none), whether that role may create objects there (a superuser always may),
 * and whether schema_migrations exists yet.
 */
static const char SQL_MIGRATE_ROLE[] =
    "SELECT current_user, current_schema(),"
    " coalesce(r.rolsuper OR has_schema_privilege(current_schema(), 'CREATE'), false),"
    " to_regclass('schema_migrations') IS NOT NULL"
    " FROM pg_roles r WHERE r.rolname = current_user";

/* Returns 1 row when version $1 is already applied. */
static const char SQL_MIGRATION_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = $1";

/* Records migration $1 named $2 as applied, in the migration's own transaction. */
static const char SQL_MIGRATION_RECORD[] =
    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)";

/* Returns one row: the highest applied version, 0 when none. */
static const char SQL_SCHEMA_VERSION[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";

struct migration {
	int version; /* NNNN from the file name */
	char *name;  /* file name without directory, owned */
	char *sql;   /* text, owned */
};

/* "path/0001_init.sql" -> 1, or -1 if the name is not a migration's. */
static int migration_version(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base != NULL ? base + 1 : path;
	len = strlen(base);
	if (len < 9 || strcmp(base + len - 4, ".sql") != 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (base[i] < '0' || base[i] > '9')
			return -1;
	if (base[4] != '_')
		return -1;
	return atoi(base);
}

static int migration_cmp(const void *a, const void *b)
{
	return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

int migrate_latest_builtin(void)
{
	int latest = 0;

	for (const struct embedded_file *f = embedded_files; f->path != NULL; f++) {
		int v = migration_version(f->path);

		if (strncmp(f->path, "migrations/", 11) == 0 && v > latest)
			latest = v;
	}
	return latest;
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return NULL;
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		fclose(fp);
		return NULL;
	}
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Collect the migrations (built in, or from dir); returns how many, -1 on error. */
static int migrations_load(const char *dir, struct migration **out, struct err *err)
{
	struct migration *list = NULL;
	int n = 0;

	if (dir == NULL) {
		for (const struct embedded_file *f = embedded_files; f->path != NULL; f++) {
			int v = migration_version(f->path);

			if (strncmp(f->path, "migrations/", 11) != 0 || v < 0)
				continue;
			list = xrealloc(list, (size_t)(n + 1) * sizeof *list);
			list[n].version = v;
			list[n].name = xstrdup(f->path + 11);
			list[n].sql = xstrdup((const char *)f->data);
			n++;
		}
	} else {
		DIR *d = opendir(dir);
		struct dirent *de;

		if (d == NULL) {
			err_set(err, ST_INVALID, "dir",
			        "could not open migrations directory \"%s\"", dir);
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			int v = migration_version(de->d_name);
			char *path, *sql;

			if (v < 0)
				continue;
			path = xasprintf("%s/%s", dir, de->d_name);
			sql = read_file(path);
			free(path);
			if (sql == NULL) {
				err_set(err, ST_INVALID, "dir", "could not read migration \"%s\"",
				        de->d_name);
				closedir(d);
				for (int i = 0; i < n; i++) {
					free(list[i].name);
					free(list[i].sql);
				}
				free(list);
				return -1;
			}
			list = xrealloc(list, (size_t)(n + 1) * sizeof *list);
			list[n].version = v;
			list[n].name = xstrdup(de->d_name);
			list[n].sql = sql;
			n++;
		}
		closedir(d);
	}
	if (n > 0)
		qsort(list, (size_t)n, sizeof *list, migration_cmp);
	*out = list;
	return n;
}

/* Run a command with no result rows; false (and err filled) if it failed. */
static bool exec_ok(PGconn *pg, const char *sql, int nparams, const char *const *values,
                    struct err *err, const char *what)
{
	PGresult *res = PQexecParams(pg, sql, nparams, NULL, values, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(res);
	bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;

	if (!ok) {
		char msg[200];
		size_t n;

		snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		err_set(err, ST_INTERNAL, NULL, "%s: %s", what, msg);
	}
	PQclear(res);
	return ok;
}

/* Is version applied?  -1 on error. */
static int applied(PGconn *pg, int version, struct err *err)
{
	char v[16];
	const char *vals[] = {v};
	PGresult *res;
	int r;

	snprintf(v, sizeof v, "%d", version);
	res = PQexecParams(pg, SQL_MIGRATION_APPLIED, 1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		err_set(err, ST_INTERNAL, NULL, "could not read schema_migrations");
		PQclear(res);
		return -1;
	}
	r = PQntuples(res) > 0;
	PQclear(res);
	return r;
}

/* Apply one migration in its own transaction; on failure roll it all back. */
static bool apply_one(PGconn *pg, const struct migration *m, struct err *err)
{
	char v[16];
	const char *vals[] = {v, m->name};
	PGresult *res;
	bool ok;

	snprintf(v, sizeof v, "%d", m->version);
	if (!exec_ok(pg, "BEGIN", 0, NULL, err, "could not begin"))
		return false;
	/* PQexec: a migration file holds several statements (simple query protocol). */
	res = PQexec(pg, m->sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok) {
		char msg[400];
		size_t n;

		snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		err_set(err, ST_INTERNAL, NULL, "migration \"%s\" failed: %s", m->name, msg);
	}
	PQclear(res);
	if (ok)
		ok =
		    exec_ok(pg, SQL_MIGRATION_RECORD, 2, vals, err, "could not record migration") &&
		    exec_ok(pg, "COMMIT", 0, NULL, err, "could not commit migration");
	if (!ok) {
		struct err ignored;

		exec_ok(pg, "ROLLBACK", 0, NULL, &ignored, "rollback");
	}
	return ok;
}

/* What the connected role may do; false (err filled) if the question failed. */
struct migrate_role {
	char user[128];   /* current_user */
	char schema[128]; /* current_schema(), "" if none */
	bool can_create;  /* may create objects there: the owner (or a superuser) */
	bool has_table;   /* schema_migrations exists */
};

static bool role_read(PGconn *pg, struct migrate_role *out, struct err *err)
{
	PGresult *res = PQexec(pg, SQL_MIGRATE_ROLE);
	bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;

	if (ok) {
		snprintf(out->user, sizeof out->user, "%s", PQgetvalue(res, 0, 0));
		snprintf(out->schema, sizeof out->schema, "%s", PQgetvalue(res, 0, 1));
		out->can_create = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
		out->has_table = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	} else {
		err_set(err, ST_INTERNAL, NULL, "could not read the connected role's privileges");
	}
	PQclear(res);
	return ok;
}

static enum status role_refused(const struct migrate_role *role, struct err *err)
{
	return err_set(err, ST_FORBIDDEN, NULL,
	               "cannot migrate as role \"%s\": it may not create objects in schema \"%s\"; "
	               "migrations need the schema owner's connection string (database_owner_url)",
	               role->user, role->schema[0] != '\0' ? role->schema : "(none)");
}

enum status migrate_run(const char *conninfo, const char *dir, enum migrate_mode mode,
                        struct err *err)
{
	const char *keys[] = {"dbname", "application_name", NULL};
	const char *vals[] = {conninfo, "carebridge-migrate", NULL};
	struct migration *list = NULL;
	struct migrate_role role;
	enum status st = ST_OK;
	int n, done = 0;
	PGconn *pg;

	n = migrations_load(dir, &list, err);
	if (n < 0)
		return ST_INVALID;
	pg = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(pg) != CONNECTION_OK) {
		char msg[200];
		size_t len;

		snprintf(msg, sizeof msg, "%s", PQerrorMessage(pg));
		len = strlen(msg);
		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
		st = err_set(err, ST_UNAVAILABLE, NULL, "could not connect to the database: %s",
		             msg);
		goto out;
	}
	if (!exec_ok(pg, "SET client_min_messages = warning", 0, NULL, err, "could not set up") ||
	    !exec_ok(pg, SQL_MIGRATIONS_LOCK, 0, NULL, err, "could not lock migrations") ||
	    !role_read(pg, &role, err)) {
		st = ST_INTERNAL;
		goto out;
	}
	/* The migrate command refuses the wrong role even with nothing to do: found now, not
	 * at the next upgrade.  serve's start-up check only needs one when there is work. */
	if (!role.can_create &&
	    (mode == MIGRATE_APPLY || (mode == MIGRATE_ON_START && !role.has_table))) {
		st = role_refused(&role, err);
		goto out;
	}
	if (!role.has_table && role.can_create &&
	    !exec_ok(pg, SQL_MIGRATIONS_TABLE, 0, NULL, err,
	             "could not create schema_migrations")) {
		st = ST_INTERNAL;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int a = role.has_table || role.can_create ? applied(pg, list[i].version, err) : 0;

		if (a < 0) {
			st = ST_INTERNAL;
			goto out;
		}
		if (a == 1)
			continue;
		if (mode == MIGRATE_STATUS) {
			log_info("migrate", "pending migration=%s", list[i].name);
			continue;
		}
		if (!role.can_create) {
			st = role_refused(&role, err);
			goto out;
		}
		if (!apply_one(pg, &list[i], err)) {
			st = ST_INTERNAL;
			goto out;
		}
		log_info("migrate", "applied migration=%s", list[i].name);
		done++;
	}
	if (mode != MIGRATE_STATUS)
		log_info("migrate", "schema is current applied=%d", done);
out:
	if (PQstatus(pg) == CONNECTION_OK) {
		struct err ignored;

		exec_ok(pg, SQL_MIGRATIONS_UNLOCK, 0, NULL, &ignored, "unlock");
	}
	PQfinish(pg);
	for (int i = 0; i < n; i++) {
		free(list[i].name);
		free(list[i].sql);
	}
	free(list);
	return st;
}

struct version_wait {
	store_version_cb *cb; /* the caller's */
	void *arg;            /* its argument */
};

static void version_done(const struct db_result *r, void *arg)
{
	struct version_wait *w = arg;
	const char *v = r->st == ST_OK ? db_value(r->res[0], 0, 0) : NULL;

	w->cb(v != NULL ? ST_OK : (r->st != ST_OK ? r->st : ST_INTERNAL), v ? atoi(v) : 0, w->arg);
	free(w);
}

void store_schema_version(struct db *db, store_version_cb *cb, void *arg)
{
	struct version_wait *w = xmalloc(sizeof *w);
	struct db_req *req = db_req_new();

	w->cb = cb;
	w->arg = arg;
	db_req_add(req, SQL_SCHEMA_VERSION, 0, NULL);
	db_req_submit(db, req, version_done, w);
}

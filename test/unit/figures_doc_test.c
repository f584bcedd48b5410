/*
 * figures_doc_test.c - unit tests for lib/figures_doc: the store's facts
 * document read into lib/figures facts, and malformed documents refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cbtime.h"
#include "figures_doc.h"

static int64_t at(const char *s)
{
	int64_t t = 0;

	if (time_parse(s, &t, "t", NULL) != ST_OK)
		fail_msg("bad instant %s", s);
	return t;
}

static int32_t day(const char *s)
{
	int32_t d = 0;

	if (date_parse(s, &d, "d", NULL) != ST_OK)
		fail_msg("bad date %s", s);
	return d;
}

/*
 * Admitted 1 Nov 2026 10:00Z on A1, moved to B2 on 4 Nov 12:00Z; NCTR from
 * 2 Nov 09:00Z; a dtoc-2014 "E" barrier primary from 2 Nov 10:00Z, its
 * reason changed to nhse-acute-2023 p1_awaiting_care on 5 Nov 08:00Z; still in
 * hospital.  Instants as whole seconds, as the store writes them.
 */
static const char DOC[] =
    "{\"episodes\":[{\"id\":\"e1\",\"admitted_at\":1793527200,\"discharged_at\":null,"
    "\"pathway\":null,\"bed\":\"7\","
    "\"stays\":[[\"A1\",1793527200,1793794800],[\"B2\",1793794800,null]],"
    "\"readiness\":[[1793610000,null]],"
    "\"barriers\":[{\"list\":\"dtoc-2014\",\"key\":\"E\",\"opened_at\":1793613600,"
    "\"closed_at\":null,\"changes\":[[1793865600,\"nhse-acute-2023\",\"p1_awaiting_care\"]],"
    "\"primary\":[[1793613600,null]]}]},"
    "{\"id\":\"e2\",\"admitted_at\":1793527200,\"discharged_at\":1793617200,\"pathway\":2,"
    "\"stays\":[[\"A1\",1793527200,null]]}],"
    "\"lists\":[[\"dtoc-2014\",\"2014-04-01\"],[\"nhse-acute-2023\",\"2023-04-01\"]],"
    "\"mappings\":[[\"dtoc-2014\",\"E\",\"nhse-acute-2023\",\"p1_awaiting_care\"]],"
    "\"labels\":[[\"nhse-acute-2023\",\"p1_awaiting_care\",\"Awaiting a care package\"]]}";

static void test_reads_every_fact(void **state)
{
	struct figures_doc d;
	struct figures_day out;
	struct err err;
	const struct figures_episode *e;

	(void)state;
	assert_int_equal(at("2026-11-01T10:00:00Z"), 1793527200);
	assert_int_equal(figures_doc_parse(DOC, strlen(DOC), &d, &err), ST_OK);
	assert_int_equal(d.facts.nepisodes, 2);
	e = &d.facts.episodes[0];
	assert_string_equal(e->id, "e1");
	assert_int_equal(e->admitted_at, at("2026-11-01T10:00:00Z"));
	assert_int_equal(e->discharged_at, 0);
	assert_int_equal(e->pathway, FIGURES_PATHWAY_NOT_RECORDED);
	assert_string_equal(d.beds[0], "7");
	assert_int_equal(e->nstays, 2);
	assert_int_equal(e->stays[1].to, 0);
	assert_int_equal(e->nreadiness, 1);
	assert_int_equal(e->readiness[0].ready_at, at("2026-11-02T09:00:00Z"));
	assert_int_equal(e->nbarriers, 1);
	assert_int_equal(e->barriers[0].nchanges, 1);
	assert_int_equal(e->barriers[0].nprimary, 1);
	assert_int_equal(d.facts.episodes[1].pathway, 2);
	assert_int_equal(d.facts.episodes[1].discharged_at, at("2026-11-02T11:00:00Z"));
	assert_string_equal(d.beds[1], "");
	assert_int_equal(d.facts.nlists, 2);
	assert_int_equal(d.facts.lists[1].active_from, day("2023-04-01"));
	assert_int_equal(d.facts.nmappings, 1);
	assert_string_equal(figures_doc_label(&d, "nhse-acute-2023", "p1_awaiting_care"),
	                    "Awaiting a care package");
	assert_null(figures_doc_label(&d, "dtoc-2014", "E"));

	/* 3 Nov: on A1, reason E reported in today's list as p1_awaiting_care */
	assert_true(figures_delayed_on(&d.facts, e, day("2026-11-03"), &out));
	assert_string_equal(out.ward, "A1");
	assert_string_equal(out.recorded.key, "E");
	assert_string_equal(out.reported.key, "p1_awaiting_care");
	/* 5 Nov: moved to B2, reason changed */
	assert_true(figures_delayed_on(&d.facts, e, day("2026-11-05"), &out));
	assert_string_equal(out.ward, "B2");
	assert_string_equal(out.recorded.list, "nhse-acute-2023");
	/* 1 Nov: not yet NCTR */
	assert_false(figures_delayed_on(&d.facts, e, day("2026-11-01"), NULL));
	figures_doc_free(&d);
	figures_doc_free(&d); /* safe twice */
}

static void test_empty_document(void **state)
{
	struct figures_doc d;
	struct err err;

	(void)state;
	assert_int_equal(figures_doc_parse("{}", 2, &d, &err), ST_OK);
	assert_int_equal(d.facts.nepisodes, 0);
	assert_int_equal(d.facts.nlists, 0);
	figures_doc_free(&d);
}

static void test_malformed_documents_are_refused(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"episodes\":{}}",
	    "{\"episodes\":[{\"admitted_at\":1}]}",
	    "{\"episodes\":[{\"id\":\"x\",\"admitted_at\":null}]}",
	    "{\"episodes\":[{\"id\":\"x\",\"admitted_at\":1,\"pathway\":4}]}",
	    "{\"episodes\":[{\"id\":\"x\",\"admitted_at\":1,\"stays\":[[\"A\",1]]}]}",
	    "{\"episodes\":[{\"id\":\"x\",\"admitted_at\":1,\"stays\":[[\"A\",\"1\",null]]}]}",
	    "{\"episodes\":[{\"id\":\"x\",\"admitted_at\":1,\"readiness\":[[null,null]]}]}",
	    "{\"episodes\":[{\"id\":\"x\",\"admitted_at\":1,\"barriers\":[{\"list\":\"l\"}]}]}",
	    ("{\"episodes\":[{\"id\":\"x\",\"admitted_at\":1,\"barriers\":[{\"list\":\"l\","
	     "\"key\":\"k\",\"opened_at\":1,\"primary\":[[1]]}]}]}"),
	    "{\"lists\":[[\"l\",\"2023-13-01\"]]}",
	    "{\"mappings\":[[\"a\",\"b\",\"c\"]]}",
	    "{\"labels\":[[\"a\",\"b\",3]]}",
	};
	struct figures_doc d;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (figures_doc_parse(bad[i], strlen(bad[i]), &d, &err) != ST_INVALID)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err.message, "malformed"));
		assert_int_equal(d.facts.nepisodes, 0);
		figures_doc_free(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_every_fact),
	    cmocka_unit_test(test_empty_document),
	    cmocka_unit_test(test_malformed_documents_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

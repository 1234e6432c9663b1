/*
 * test_fuzzcomp.c - the expression generator, the reducer and a short
 * `fuzz compiler` campaign.  Findings of the campaign are data about
 * libpcap, printed for the report, never failures here.
 */
#include "testutil.h"
#include "live.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE "traces/samples/mixed.pcap"

static char *gen_string(uint64_t seed, const struct live_exprgen_opts *o)
{
	uint64_t s = seed;
	struct live_expr *e = live_expr_gen(&s, o);
	char *str;

	assert_non_null(e);
	str = live_expr_string(e);
	assert_non_null(str);
	live_expr_free(e);
	return str;
}

static void test_deterministic(void **state)
{
	int differ = 0;

	(void)state;
	for (uint64_t i = 0; i < 300; i++) {
		char *a = gen_string(i, NULL), *b = gen_string(i, NULL), *c = gen_string(i + 1000, NULL);

		assert_string_equal(a, b);
		differ += strcmp(a, c) != 0;
		free(a);
		free(b);
		free(c);
	}
	assert_true(differ > 250);
}

/* The printer copes with any buffer size and says what the whole needs. */
static void test_print_truncates(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t s = i;
		struct live_expr *e = live_expr_gen(&s, NULL);
		char *full = live_expr_string(e), small[8];
		size_t n = live_expr_print(e, small, sizeof(small));

		assert_int_equal(n, strlen(full));
		assert_true(strlen(small) < sizeof(small));
		assert_memory_equal(small, full, strlen(small));
		free(full);
		live_expr_free(e);
	}
}

/* Most expressions compile, with and without the optimizer. */
static void test_mostly_valid(void **state)
{
	unsigned ok[2] = { 0, 0 }, rejects_all = 0, n = 2000;
	struct live_exprgen_opts go;

	(void)state;
	live_exprgen_opts_init(&go);
	for (uint64_t i = 0; i < n; i++) {
		char *e = gen_string(0x5eed0000 + i, &go), err[BPFVM_ERRBUF_SIZE];

		for (int o = 0; o < 2; o++) {
			struct bpfvm_prog p;

			if (live_fc_compile(e, o ? LIVE_FC_OFF_O0 : LIVE_FC_OFF_O1, &p, err) == 0) {
				ok[o]++;
				bpfvm_prog_free(&p);
			} else if (o == 0 && strstr(err, "rejects all packets")) {
				rejects_all++;
			}
		}
		free(e);
	}
	print_message("%u expressions: -O1 %u compiled (+%u 'rejects all packets'), -O0 %u\n", n,
		      ok[0], rejects_all, ok[1]);
	assert_true(ok[1] * 100 > n * 80);
	assert_true(ok[0] * 100 > n * 80);
}

/* Every simplification is smaller than what it came from. */
static void test_variants_shrink(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < 200; i++) {
		uint64_t s = i * 7 + 3;
		struct live_expr *e = live_expr_gen(&s, NULL);
		size_t n = 0, nodes = live_expr_nodes(e);
		struct live_expr **v = live_expr_variants(e, &n);
		char *orig = live_expr_string(e);

		assert_non_null(v);
		for (size_t j = 0; j < n; j++) {
			char *t = live_expr_string(v[j]);

			assert_true(live_expr_nodes(v[j]) <= nodes);
			assert_string_not_equal(t, orig);
			free(t);
			live_expr_free(v[j]);
		}
		free(v);
		free(orig);
		live_expr_free(e);
	}
}

/* A planted property: "disagree whenever the text has 'port 80'" (the
 * number whole: not 8080 or 800). */
static int text_has_port80(const char *s)
{
	for (const char *p = s; (p = strstr(p, "port 80")); p++)
		if (p[7] == '\0' || p[7] == ' ' || p[7] == ')')
			return 1;
	return 0;
}

static long has_port80(const struct live_expr *const *c, size_t n, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		char *s = live_expr_string(c[i]);
		int hit = s && text_has_port80(s);

		free(s);
		if (hit)
			return (long)i;
	}
	return -1;
}

static void test_reduce_planted(void **state)
{
	int tried = 0;

	(void)state;
	for (uint64_t i = 0; i < 20000 && tried < 5; i++) {
		uint64_t s = i;
		struct live_expr *e = live_expr_gen(&s, NULL), *r;
		const struct live_expr *one[1] = { e };
		char *before, *after;

		if (live_expr_nodes(e) < 6 || has_port80(one, 1, NULL) != 0) {
			live_expr_free(e);
			continue;
		}
		tried++;
		r = live_expr_reduce(e, has_port80, NULL, 500, NULL);
		assert_non_null(r);
		before = live_expr_string(e);
		after = live_expr_string(r);
		print_message("reduced  %s\n    to  %s\n", before, after);
		assert_true(text_has_port80(after));
		assert_int_equal(live_expr_nodes(r), 1);
		assert_true(strlen(after) <= strlen("tcp src and dst port 80"));
		free(before);
		free(after);
		live_expr_free(r);
		live_expr_free(e);
	}
	assert_int_equal(tried, 5);
}

static void print_findings(const struct live_fc_result *r)
{
	for (size_t i = 0; i < r->n_findings; i++) {
		const struct live_fc_finding *f = &r->findings[i];

		print_message("finding %s (%s pair): %s\n", live_fc_kind_name(f->kind),
			      f->pair ? "linux-ext" : "offline", f->reduced);
	}
}

/* The counts of a campaign add up. */
static void check_counts(const struct live_fc_result *r, uint64_t n, int linux_ext)
{
	const struct live_fc_stats *s = &r->stats;
	uint64_t kept = 0;

	assert_int_equal(s->exprs, n);
	for (int p = 0; p < (linux_ext ? 2 : 1); p++) {
		uint64_t sum = 0;

		for (int o = 0; o < LIVE_FC_OUT_COUNT; o++)
			sum += s->outcome[p][o];
		assert_int_equal(sum, n);
		assert_true(s->pairs_differing[p] <= s->outcome[p][LIVE_FC_OUT_COMPARED]);
	}
	for (int c = 0; c < LIVE_FC_CFG_COUNT; c++) {
		assert_true(s->compiled[c] + s->rejects_all[c] <= s->compiles[c]);
		if (c < LIVE_FC_LIN_O1 || linux_ext)
			assert_true(s->compiles[c] <= n && s->compiles[c] + s->outcome[0][LIVE_FC_OUT_DIED] >= n);
		else
			assert_int_equal(s->compiles[c], 0);
	}
	for (int k = 0; k < LIVE_FC_KIND_COUNT; k++) {
		assert_true(s->findings[k] <= s->occurrences[k]);
		kept += s->findings[k];
	}
	assert_int_equal(kept, r->n_findings);
}

/* A campaign of @max_exprs expressions over the sample trace, offline
 * pair only, no time limit: the options the tests below start from. */
static void campaign_opts(struct live_fc_opts *o, uint64_t max_exprs)
{
	live_fc_opts_init(o);
	o->trace = SAMPLE;
	o->max_exprs = max_exprs;
	o->seconds = 0;
	o->linux_ext = 0;
}

static void test_campaign(void **state)
{
	struct live_fc_opts o;
	struct live_fc_result r;
	char err[LIVE_ERRBUF_SIZE];

	(void)state;
	campaign_opts(&o, 300);
	o.linux_ext = geteuid() == 0;
	assert_int_equal(live_fc_run(&o, &r, err), 0);
	print_message("%llu expressions, %u packets, %llu runs, %.2f s, %zu findings\n",
		      (unsigned long long)r.stats.exprs, r.stats.packets,
		      (unsigned long long)r.stats.runs, r.stats.seconds, r.n_findings);
	print_findings(&r);
	check_counts(&r, 300, o.linux_ext);
	assert_int_equal(r.stats.packets, 400);
	live_fc_result_free(&r);
}

/* The same seed and count give the same campaign. */
static void test_campaign_repeatable(void **state)
{
	struct live_fc_opts o;
	struct live_fc_result a, b;
	char err[LIVE_ERRBUF_SIZE];

	(void)state;
	campaign_opts(&o, 150);
	o.gen_frames = 50;
	o.seed = 7;
	o.batch = 40;
	assert_int_equal(live_fc_run(&o, &a, err), 0);
	o.batch = 128;
	assert_int_equal(live_fc_run(&o, &b, err), 0);
	assert_memory_equal(a.stats.compiled, b.stats.compiled, sizeof(a.stats.compiled));
	assert_memory_equal(a.stats.outcome, b.stats.outcome, sizeof(a.stats.outcome));
	assert_int_equal(a.n_findings, b.n_findings);
	for (size_t i = 0; i < a.n_findings; i++)
		assert_string_equal(a.findings[i].reduced, b.findings[i].reduced);
	check_counts(&a, 150, 0);
	live_fc_result_free(&a);
	live_fc_result_free(&b);
}

/*
 * Where two runs part names, in each program, a step that really is the
 * read it describes: a packet load of that size at that offset, or the
 * ancillary load of that field; or the run's last step when it returned.
 * Seed 99 with generated frames finds optimizer differences on truncated
 * packets within its first 30 expressions (a fact about libpcap 1.10:
 * -O1 drops a load -O0 makes, and -O0's fails).
 */
static void test_parting(void **state)
{
	struct live_fc_opts o;
	struct live_fc_result r;
	char err[LIVE_ERRBUF_SIZE];
	unsigned verdicts = 0;

	(void)state;
	campaign_opts(&o, 30);
	o.gen_frames = 200;
	o.seed = 99;
	assert_int_equal(live_fc_run(&o, &r, err), 0);
	for (size_t n = 0; n < r.n_findings; n++) {
		const struct live_fc_finding *f = &r.findings[n];

		if (f->kind != LIVE_FC_VERDICT && f->kind != LIVE_FC_VERDICT_OOB)
			continue;
		verdicts++;
		for (int i = 0; i < 2; i++) {
			const struct bpfvm_prog *p = &f->prog[i];
			const struct bpfvm_insn *in;

			assert_true(f->part_pc[i] < p->len);
			in = &p->insns[f->part_pc[i]];
			if (f->part_end[i]) {
				assert_int_equal(BPF_CLASS(in->code), BPF_RET);
			} else if (f->part_anc[i] >= 0) {
				assert_int_equal(in->k, (uint32_t)SKF_AD_OFF + (uint32_t)f->part_anc[i]);
			} else {
				assert_true(BPF_CLASS(in->code) == BPF_LD ||
					    BPF_CLASS(in->code) == BPF_LDX);
				assert_int_equal(f->part_size[i], bpfvm_opinfo(in->code)->size);
				if (BPF_MODE(in->code) == BPF_ABS)
					assert_int_equal(f->part_off[i], (int32_t)in->k);
			}
		}
		/* they part there: not the same read on both sides */
		assert_true(f->part_end[0] != f->part_end[1] || f->part_anc[0] != f->part_anc[1] ||
			    f->part_off[0] != f->part_off[1] || f->part_size[0] != f->part_size[1] ||
			    (f->part_end[0] && f->part_end[1]));
	}
	print_message("%zu findings, %u about verdicts\n", r.n_findings, verdicts);
	assert_true(verdicts > 0);
	live_fc_result_free(&r);
}

/* A compiler that dies is a finding, reduced, and the campaign goes on. */
static void test_crash_isolated(void **state)
{
	struct live_fc_opts o;
	struct live_fc_result r;
	char err[LIVE_ERRBUF_SIZE];
	int found = 0;

	(void)state;
	campaign_opts(&o, 200);
	o.crash_on = "portrange";
	assert_int_equal(live_fc_run(&o, &r, err), 0);
	check_counts(&r, 200, 0);
	assert_true(r.stats.occurrences[LIVE_FC_CRASH] > 0);
	assert_int_equal(r.stats.outcome[0][LIVE_FC_OUT_DIED], r.stats.occurrences[LIVE_FC_CRASH]);
	for (size_t i = 0; i < r.n_findings; i++) {
		const struct live_fc_finding *f = &r.findings[i];

		if (f->kind != LIVE_FC_CRASH)
			continue;
		found++;
		print_message("crash: %s -> %s (signal %d)\n", f->expr, f->reduced, f->sig);
		assert_int_equal(f->sig, 11);
		assert_non_null(strstr(f->reduced, "portrange"));
		assert_int_equal(f->reproduced_alone, 1);
	}
	assert_true(found >= 1);
	live_fc_result_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_print_truncates),
		cmocka_unit_test(test_mostly_valid),
		cmocka_unit_test(test_variants_shrink),
		cmocka_unit_test(test_reduce_planted),
		cmocka_unit_test(test_campaign),
		cmocka_unit_test(test_campaign_repeatable),
		cmocka_unit_test(test_crash_isolated),
		cmocka_unit_test(test_parting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

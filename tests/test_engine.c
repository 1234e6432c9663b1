/*
 * test_engine.c - the event clock: events come out in (time, schedule
 * order), the clock never runs backwards, and a heap of a million events
 * behaves.
 */
#include "testutil.h"
#include "engine.h"
#include "bpfvm.h"

static void test_order(void **state)
{
	struct sim_clock c;
	struct sim_event ev;
	static const sim_ns times[] = { 50, 10, 10, 30, 10, 0, 50 };

	(void)state;
	sim_clock_init(&c);
	for (unsigned i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		assert_int_equal(sim_clock_at(&c, times[i], (int)i, NULL, NULL, 0), 0);
	/* by time; ties in the order scheduled */
	static const int want[] = { 5, 1, 2, 4, 3, 0, 6 };
	for (unsigned i = 0; i < 7; i++) {
		assert_int_equal(sim_clock_next(&c, &ev), 1);
		assert_int_equal(ev.kind, want[i]);
		assert_int_equal(c.now, ev.t);
	}
	assert_int_equal(sim_clock_next(&c, &ev), 0);
	/* scheduling in the past runs "now", never earlier */
	sim_clock_at(&c, 1, 9, NULL, NULL, 0);
	assert_int_equal(sim_clock_next(&c, &ev), 1);
	assert_int_equal(ev.t, 50);
	sim_clock_free(&c);
}

static void test_random(void **state)
{
	struct sim_clock c;
	struct sim_event ev;
	uint64_t rng = 5, n = 0;
	sim_ns last = 0;
	uint64_t last_seq = 0;

	(void)state;
	sim_clock_init(&c);
	for (int i = 0; i < 1000000; i++)
		sim_clock_at(&c, bpfvm_rand64(&rng) % 100000, 0, NULL, NULL, 0);
	while (sim_clock_next(&c, &ev)) {
		assert_true(ev.t > last || (ev.t == last && (n == 0 || ev.seq > last_seq)));
		/* events scheduled while running interleave correctly */
		if (n % 7 == 0 && n < 2000000)
			sim_clock_at(&c, ev.t + bpfvm_rand64(&rng) % 1000, 0, NULL, NULL, 0);
		last = ev.t;
		last_seq = ev.seq;
		n++;
	}
	assert_true(n > 1000000);
	assert_int_equal(sim_clock_peek(&c), UINT64_MAX);
	sim_clock_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}

/*
 * engine.h - the discrete-event clock: a binary heap of events ordered by
 * (time, sequence), so events at the same nanosecond run in the order they
 * were scheduled and every run with the same inputs is identical.
 */
#ifndef CAPSIM_SIM_ENGINE_H
#define CAPSIM_SIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t sim_ns;

struct sim_event {
	sim_ns t;
	uint64_t seq;
	int kind;
	void *a, *b;
	uint64_t arg;
};

struct sim_clock {
	sim_ns now;
	uint64_t seq;
	struct sim_event *heap;
	size_t n, cap;
	uint64_t dispatched;
};

void sim_clock_init(struct sim_clock *c);
void sim_clock_free(struct sim_clock *c);
/* Schedule an event at @t (>= now).  0, or -1 when out of memory. */
int sim_clock_at(struct sim_clock *c, sim_ns t, int kind, void *a, void *b, uint64_t arg);
/* Take the earliest event, advancing now to its time; 0 when none is left. */
int sim_clock_next(struct sim_clock *c, struct sim_event *ev);
/* The earliest event's time, or UINT64_MAX when none. */
sim_ns sim_clock_peek(const struct sim_clock *c);

#endif

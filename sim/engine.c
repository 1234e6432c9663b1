/*
 * engine.c - the event heap.
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

void sim_clock_init(struct sim_clock *c)
{
	memset(c, 0, sizeof(*c));
}

void sim_clock_free(struct sim_clock *c)
{
	free(c->heap);
	memset(c, 0, sizeof(*c));
}

static int before(const struct sim_event *x, const struct sim_event *y)
{
	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

int sim_clock_at(struct sim_clock *c, sim_ns t, int kind, void *a, void *b, uint64_t arg)
{
	size_t i;

	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct sim_event *nh = realloc(c->heap, ncap * sizeof(*nh));

		if (!nh)
			return -1;
		c->heap = nh;
		c->cap = ncap;
	}
	if (t < c->now)
		t = c->now;
	i = c->n++;
	struct sim_event ev = { .t = t, .seq = c->seq++, .kind = kind, .a = a, .b = b, .arg = arg };

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!before(&ev, &c->heap[p]))
			break;
		c->heap[i] = c->heap[p];
		i = p;
	}
	c->heap[i] = ev;
	return 0;
}

int sim_clock_next(struct sim_clock *c, struct sim_event *ev)
{
	struct sim_event last;
	size_t i = 0;

	if (c->n == 0)
		return 0;
	*ev = c->heap[0];
	last = c->heap[--c->n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < c->n && before(&c->heap[l], &last))
			m = l;
		if (l + 1 < c->n && before(&c->heap[l + 1], m == i ? &last : &c->heap[m]))
			m = l + 1;
		if (m == i)
			break;
		c->heap[i] = c->heap[m];
		i = m;
	}
	if (c->n)
		c->heap[i] = last;
	c->now = ev->t;
	c->dispatched++;
	return 1;
}

sim_ns sim_clock_peek(const struct sim_clock *c)
{
	return c->n ? c->heap[0].t : UINT64_MAX;
}

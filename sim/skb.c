/*
 * skb.c - sk_buffs: a pool of them, so a run's steady state allocates
 * nothing and memory is bounded by the model's queues, not by how many
 * packets pass.
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#define SKB_HEADROOM 64	/* room to push headers (VLAN, Ethernet on transmit) */
#define SKB_MINCAP 2048	/* most frames fit; larger ones get a larger buffer */

struct sim_skb *sim_skb_alloc(struct sim_world *w, uint32_t len)
{
	uint32_t need = len + SKB_HEADROOM;
	struct sim_skb *skb = w->skb_pool;

	if (skb) {
		w->skb_pool = skb->next;
		if (skb->cap < need) {
			uint8_t *h = realloc(skb->head, need);

			if (!h) {
				skb->next = w->skb_pool;
				w->skb_pool = skb;
				return NULL;
			}
			skb->head = h;
			skb->cap = need;
		}
	} else {
		uint32_t cap = need > SKB_MINCAP ? need : SKB_MINCAP;

		if (!(skb = calloc(1, sizeof(*skb))) || !(skb->head = malloc(cap))) {
			free(skb);
			return NULL;
		}
		skb->cap = cap;
	}
	uint8_t *head = skb->head;
	uint32_t cap = skb->cap;

	memset(skb, 0, sizeof(*skb));
	skb->head = head;
	skb->cap = cap;
	skb->data = SKB_HEADROOM;
	skb->len = len;
	skb->mac = skb->net = skb->transport = -1;
	skb->id = ++w->next_skb_id;
	skb->truesize = len + 256;	/* SKB_TRUESIZE-like: data plus the struct */
	if (++w->skbs_live > w->skbs_peak)
		w->skbs_peak = w->skbs_live;
	return skb;
}

struct sim_skb *sim_skb_clone(struct sim_world *w, const struct sim_skb *skb)
{
	struct sim_skb *n = sim_skb_alloc(w, skb->len + skb->data);

	if (!n)
		return NULL;
	uint8_t *head = n->head;
	uint32_t cap = n->cap;

	*n = *skb;
	n->head = head;
	n->cap = cap;
	n->next = NULL;
	memcpy(n->head, skb->head, skb->data + skb->len);
	n->clone = skb->clone + 1;
	w->next_skb_id--;	/* a clone is the same packet */
	return n;
}

void sim_skb_free(struct sim_world *w, struct sim_skb *skb)
{
	if (!skb)
		return;
	w->skbs_live--;
	skb->next = w->skb_pool;
	w->skb_pool = skb;
}

void sim_skb_pool_free(struct sim_world *w)
{
	while (w->skb_pool) {
		struct sim_skb *n = w->skb_pool->next;

		free(w->skb_pool->head);
		free(w->skb_pool);
		w->skb_pool = n;
	}
}

void sim_queue_push(struct sim_queue *q, struct sim_skb *skb)
{
	skb->next = NULL;
	if (q->tail)
		q->tail->next = skb;
	else
		q->head = skb;
	q->tail = skb;
	q->len++;
	q->bytes += skb->len;
}

struct sim_skb *sim_queue_pop(struct sim_queue *q)
{
	struct sim_skb *skb = q->head;

	if (!skb)
		return NULL;
	q->head = skb->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	q->bytes -= skb->len;
	skb->next = NULL;
	return skb;
}

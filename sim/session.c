/*
 * session.c - one `capsim sim SCENARIO` run: load the scenario, build the
 * world (sim_build), attach the collector, run the clock, read every
 * counter out under the kernel's names and check the expectations.  The
 * printers (report.c) read the session afterwards; nothing here prints
 * except the --trace stream the caller asked for.
 */
#include "session_int.h"
#include "sim_build.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_TRACE_LIMIT 10000
#define DEFAULT_LIST_LIMIT 50

int sim_session_load(struct sim_session **out, const char *path, char *errbuf)
{
	struct sim_session *s = calloc(1, sizeof(*s));
	char err[SIM_SCN_ERRBUF_SIZE];

	*out = NULL;
	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "out of memory");
		return SIM_SESSION_EINTERNAL;
	}
	if (sim_scenario_load(path, &s->sc, err) != 0) {
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "%s", err);
		sim_session_free(s);
		return SIM_SESSION_EINPUT;
	}
	*out = s;
	return 0;
}

int sim_session_write_scenario(const struct sim_session *s, FILE *f)
{
	return sim_scenario_write(f, s->sc);
}

/*
 * A tap's filter compiled with Linux extensions needs a live libpcap
 * handle, which capsim opens in a private network namespace: without
 * the rights to make one, the scenario is fine and the machine is not.
 */
static int build_error_kind(const char *msg)
{
	if (strstr(msg, "namespace") || strstr(msg, "live handle") ||
	    strstr(msg, "Operation not permitted") || strstr(msg, "run as root"))
		return SIM_SESSION_EENV;
	if (strstr(msg, "out of memory"))
		return SIM_SESSION_EINTERNAL;
	return SIM_SESSION_EINPUT;
}

int sim_session_run(struct sim_session *s, const struct sim_session_opts *o, char *errbuf)
{
	char err[SIM_SESSION_ERRBUF_SIZE];
	struct sim_session_opts d = { 0 };
	int rc;

	if (s->ran) {
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "a session runs once");
		return SIM_SESSION_EINTERNAL;
	}
	s->ran = 1;
	if (!o)
		o = &d;
	err[0] = '\0';
	if (sim_build(s->sc, &s->w, err) != 0) {
		s->w = NULL;
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "%s", err[0] ? err : "cannot build the world");
		return build_error_kind(err);
	}
	if (sim_collect_init(&s->col, s->w, s->sc, o->pcap_dir, o->trace,
			     o->trace_limit ? o->trace_limit : DEFAULT_TRACE_LIMIT,
			     o->list_limit ? o->list_limit : DEFAULT_LIST_LIMIT, errbuf,
			     SIM_SESSION_ERRBUF_SIZE) != 0)
		return strstr(errbuf, "-w:") || strstr(errbuf, "out of memory") ? SIM_SESSION_EINTERNAL
										 : SIM_SESSION_EINPUT;
	s->col.capture = o->capture;
	s->col.capture_ctx = o->capture_ctx;
	if (sim_expect_check(s, errbuf, SIM_SESSION_ERRBUF_SIZE) != 0)
		return strstr(errbuf, "out of memory") ? SIM_SESSION_EINTERNAL : SIM_SESSION_EINPUT;

	sim_world_run(s->w, s->w->duration);
	s->end = s->w->clock.now;

	sim_collect_finish(&s->col);
	for (unsigned h = 0; h < s->col.nhosts; h++)
		if (sim_counters(&s->col, h, &s->ctrs[h]) != 0) {
			snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "out of memory");
			return SIM_SESSION_EINTERNAL;
		}
	if (sim_expect_eval(s) != 0) {
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "out of memory");
		return SIM_SESSION_EINTERNAL;
	}
	if (s->col.failed) {
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "%s", s->col.err);
		return SIM_SESSION_EINTERNAL;
	}
	if (o->trace && (fflush(o->trace) != 0 || ferror(o->trace))) {
		snprintf(errbuf, SIM_SESSION_ERRBUF_SIZE, "writing the --trace lines failed");
		return SIM_SESSION_EINTERNAL;
	}
	rc = sim_collect_commit(&s->col, errbuf, SIM_SESSION_ERRBUF_SIZE);
	return rc ? SIM_SESSION_EINTERNAL : 0;
}

unsigned sim_session_expects(const struct sim_session *s)
{
	return s->sc ? s->sc->nexpects : 0;
}

unsigned sim_session_failed(const struct sim_session *s)
{
	return s->nfailed;
}

uint64_t sim_session_events(const struct sim_session *s)
{
	return s->col.events;
}

void sim_session_free(struct sim_session *s)
{
	if (!s)
		return;
	sim_collect_free(&s->col);
	sim_world_free(s->w);
	for (unsigned h = 0; h < SIM_SES_MAX_HOSTS; h++)
		sim_ctr_list_free(&s->ctrs[h]);
	free(s->res);
	sim_scenario_free(s->sc);
	free(s->path);
	free(s);
}

int sim_session_tap(const struct sim_session *s, const char *host, const char *tap,
		    struct sim_session_tap *out)
{
	int i = s->ran ? sim_collect_tap(&s->col, host, tap) : -1;
	const struct sim_ses_tap *t;

	if (i < 0)
		return -1;
	t = &s->col.taps[i];
	out->tcpdump = t->tcpdump;
	out->linktype = t->linktype;
	out->captured = t->captured;
	out->received = t->received;
	out->dropped = t->dropped;
	out->tp_packets = t->k.tp_packets;
	out->tp_drops = t->k.tp_drops;
	out->tp_freeze_q_cnt = t->k.tp_freeze_q_cnt;
	return 0;
}

int sim_session_counter(const struct sim_session *s, const char *host, const char *name,
			uint64_t *v)
{
	int h = s->ran ? sim_collect_host(&s->col, host) : -1;

	if (h < 0)
		return -1;
	for (unsigned i = 0; i < s->ctrs[h].n; i++) {
		const struct sim_ctr *c = &s->ctrs[h].v[i];

		if (strcmp(c->name, name) == 0) {
			*v = c->value;
			return c->modelled ? 1 : 0;
		}
	}
	return -1;
}

int sim_session_drop(const struct sim_session *s, unsigned i, struct sim_session_drop *out)
{
	const struct sim_ses_drop *d;

	if (!s->ran || i >= s->col.ndrops)
		return -1;
	d = &s->col.drops[i];
	out->host = s->col.hosts[d->host]->name;
	out->reason = sim_drop_reason_name(d->reason);
	out->func = sim_stages[d->stage].func;
	out->hook = sim_stage_hook_name(d->stage);
	out->count = d->count;
	out->tap_copy = d->stage == SIM_ST_TPACKET_RCV || d->stage == SIM_ST_PACKET_RCV;
	return 0;
}

const struct sim_scenario *sim_session_scenario(const struct sim_session *s)
{
	return s->sc;
}

/*
 * test_docs.c - the documentation is made from the code, and stays so:
 *  - the committed DOT sources of every picture and docs/capsim.txt are
 *    what `make docs` makes now (regenerated into a temporary folder by
 *    scripts/docs.sh --sources; the DOT is compared, not the images, whose
 *    bytes differ between Graphviz builds), and each has its SVG and PNG;
 *  - the overview draws every drop the model's sources make, and every
 *    step a shipped scenario's packets take is a path in the overview;
 *  - the man page names every option each command's --help lists;
 *  - every shipped scenario has a lab, and each lab's commands, run as
 *    written, print what the lab says they print (commands shown with a
 *    root prompt only as root).
 */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* The overview generator itself, so this suite needs no other program. */
#define main docs_overview_main
#include "../docs/gen/overview.c"
#undef main

/* ------------------------------------------------------------------ */
/* Small tools. */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = (size_t)n;
	}
	return buf;
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Names in @dir ending in @suffix, sorted; returns the count. */
static int list(const char *dir, const char *suffix, char names[][128], int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name), s = strlen(suffix);

		if (l > s && l < 128 && strcmp(e->d_name + l - s, suffix) == 0)
			strcpy(names[n++], e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
	return n;
}

/* Run a shell command with stdout and stderr into one buffer (1 MiB). */
static int shell(const char *cmd, char **out)
{
	char full[8192], path[128];
	int status;

	snprintf(path, sizeof(path), "%s/shell.out", tmpdir);
	snprintf(full, sizeof(full), "( %s ) >%s 2>&1 </dev/null", cmd, path);
	status = system(full);
	*out = slurp(path, NULL);
	if (!*out)
		*out = strdup("");
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The overview's DOT, from the generator compiled into this suite. */
static char *overview_dot(void)
{
	char path[128];
	pid_t pid;
	int status;

	snprintf(path, sizeof(path), "%s/overview.dot", tmpdir);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (!freopen(path, "w", stdout))
			_exit(2);
		_exit(docs_overview_main());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return NULL;
	return slurp(path, NULL);
}

/* The first line where @a and @b differ, for the failure message. */
static int first_diff_line(const char *a, const char *b)
{
	int line = 1;

	for (; *a && *a == *b; a++, b++)
		line += *a == '\n';
	return line;
}

/* ------------------------------------------------------------------ */
/* The pictures and the man page's text are current. */

static void test_overview_current(void **state)
{
	char *now = overview_dot(), *committed = slurp("docs/pictures/overview.dot", NULL);

	(void)state;
	assert_non_null(now);
	if (!committed)
		fail_msg("docs/pictures/overview.dot is missing: run `make docs`");
	if (strcmp(now, committed) != 0)
		fail_msg("docs/pictures/overview.dot is stale (line %d differs): run `make docs` "
			 "and commit docs/pictures/overview.*",
			 first_diff_line(now, committed));
	assert_true(exists("docs/pictures/overview.svg"));
	assert_true(exists("docs/pictures/overview.png"));
	free(now);
	free(committed);
}

static void test_sources_current(void **state)
{
	static char names[128][128];
	char cmd[1024], dir[128], sub[160], *out;
	int n, stale = 0, compared = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/regen", tmpdir);
	snprintf(cmd, sizeof(cmd), "./scripts/docs.sh --sources %s - %s", capsim, dir);
	if (shell(cmd, &out) != 0)
		fail_msg("%s failed:\n%s", cmd, out);
	if (*out)
		print_message("%s", out);	/* what was skipped, and why */
	free(out);

	snprintf(sub, sizeof(sub), "%s/pictures", dir);
	n = list(sub, ".dot", names, 128);
	assert_true(n >= 12);
	for (int i = 0; i < n; i++) {
		char a[512], b[512];
		char *now, *committed;

		snprintf(a, sizeof(a), "%s/pictures/%.127s", dir, names[i]);
		snprintf(b, sizeof(b), "docs/pictures/%.127s", names[i]);
		now = slurp(a, NULL);
		committed = slurp(b, NULL);
		assert_non_null(now);
		if (!committed || strcmp(now, committed) != 0) {
			print_message("stale: %s%s\n", b, committed ? "" : " (missing)");
			stale++;
		}
		compared++;
		/* Each source is drawn for the web and for slides. */
		strcpy(b + strlen(b) - 4, ".svg");
		if (!exists(b))
			print_message("missing: %s\n", b), stale++;
		strcpy(b + strlen(b) - 4, ".png");
		if (!exists(b))
			print_message("missing: %s\n", b), stale++;
		free(now);
		free(committed);
	}
	{
		char a[256];
		char *now, *committed = slurp("docs/capsim.txt", NULL);

		snprintf(a, sizeof(a), "%s/capsim.txt", dir);
		now = slurp(a, NULL);
		assert_non_null(now);
		if (!committed || strcmp(now, committed) != 0) {
			print_message("stale: docs/capsim.txt (from docs/capsim.1)\n");
			stale++;
		}
		compared++;
		free(now);
		free(committed);
	}
	print_message("%d generated files compared\n", compared);
	if (stale)
		fail_msg("%d generated file(s) in docs/ are stale or missing: run `make docs`", stale);
}

/* ------------------------------------------------------------------ */
/* The overview against the model's sources and the scenarios' paths. */

static int stage_by_id(const char *s, size_t len)
{
	for (int st = 0; st < SIM_STAGE_COUNT; st++)
		if (strlen(stages[st].id) == len && strncmp(stages[st].id, s, len) == 0)
			return st;
	return -1;
}

static int reason_by_name(const char *s, size_t len)
{
	for (int r = 1; r < SIM_DROP_REASON_COUNT; r++)
		if (strlen(reasons[r].name) == len && strncmp(reasons[r].name, s, len) == 0)
			return r;
	return -1;
}

/* The identifier after @prefix at @p ("SIM_ST_" -> "NIC_DMA"), or -1. */
static int ident_after(const char *p, const char *prefix, size_t *len)
{
	size_t n = 0;

	if (strncmp(p, prefix, strlen(prefix)) != 0)
		return -1;
	p += strlen(prefix);
	while ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_')
		n++;
	*len = n;
	return (int)strlen(prefix);
}

/* Does the overview draw a drop of @reason at @stage? */
static int overview_has_drop(const char *dot, int stage, int reason)
{
	char key[96], bold[64];
	const char *p, *end;

	snprintf(key, sizeof(key), "\t\tdrop_%s [", stages[stage].id);
	p = strstr(dot, key);
	if (!p)
		return 0;
	end = strchr(p, '\n');
	snprintf(bold, sizeof(bold), "<b>%s</b>", reasons[reason].name);
	p = strstr(p, bold);
	return p && p < end;
}

/*
 * Every drop the sources make with literal names -
 * sim_kfree_skb_reason(c, SIM_ST_x, skb, SIM_DROP_y), a sim_trace() with a
 * reason, sim_nf_hook(..., SIM_ST_x, ...) (its reasons: TC_INGRESS,
 * TC_EGRESS or NETFILTER_DROP, netfilter.c's drop_reason()) - is drawn.
 */
static void test_overview_draws_every_drop(void **state)
{
	static char files[64][128];
	char *dot = overview_dot();
	int n, checked = 0, missing = 0;

	(void)state;
	assert_non_null(dot);
	n = list("sim", ".c", files, 64);
	assert_true(n > 5);
	for (int i = 0; i < n; i++) {
		char path[256];
		char *src;
		const char *p;

		snprintf(path, sizeof(path), "sim/%.127s", files[i]);
		src = slurp(path, NULL);
		assert_non_null(src);
		for (p = src; (p = strstr(p, "SIM_ST_")); p++) {
			const char *call = p, *semi = strchr(p, ';'), *q;
			size_t slen, rlen;
			int st, r, nf;

			/* The call this stage name is an argument of. */
			while (call > src && call[-1] != '\n')
				call--;
			if (ident_after(p, "SIM_ST_", &slen) < 0 ||
			    (st = stage_by_id(p + 7, slen)) < 0 || !semi)
				continue;
			nf = strstr(call, "sim_nf_hook(") && strstr(call, "sim_nf_hook(") < p;
			if (!nf && !(strstr(call, "sim_kfree_skb_reason(") &&
				     strstr(call, "sim_kfree_skb_reason(") < p) &&
			    !(strstr(call, "sim_trace(") && strstr(call, "sim_trace(") < p))
				continue;
			if (nf) {
				r = st == SIM_ST_TC_INGRESS  ? SIM_DROP_TC_INGRESS :
				    st == SIM_ST_TC_EGRESS   ? SIM_DROP_TC_EGRESS :
							       SIM_DROP_NETFILTER_DROP;
			} else {
				q = strstr(p, "SIM_DROP_");
				if (!q || q > semi || ident_after(q, "SIM_DROP_", &rlen) < 0 ||
				    strncmp(q + 9, "NONE", 4) == 0)
					continue;
				if ((r = reason_by_name(q + 9, rlen)) < 0)
					continue;
			}
			checked++;
			if (!overview_has_drop(dot, st, r)) {
				print_message("%s: a drop %s at %s is not in the overview (drops[] in "
					      "docs/gen/overview.c)\n",
					      path, reasons[r].name, stages[st].id);
				missing++;
			}
		}
		free(src);
	}
	print_message("%d drop sites in sim/*.c checked against the overview\n", checked);
	assert_true(checked >= 40);
	assert_int_equal(missing, 0);
	free(dot);
}

/* The overview's edges, stage to stage; a signpost ("to FUNC (ID):")
 * counts as an edge to ID. */
static void overview_edges(const char *dot, unsigned char adj[SIM_STAGE_COUNT][SIM_STAGE_COUNT])
{
	const char *p;

	memset(adj, 0, SIM_STAGE_COUNT * SIM_STAGE_COUNT);
	for (p = dot; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char a[64], b[64];
		int from, to;

		while (*p == '\t')
			p++;
		if (sscanf(p, "%63[A-Z0-9_] -> %63[A-Za-z0-9_]", a, b) != 2)
			continue;
		if ((from = stage_by_id(a, strlen(a))) < 0)
			continue;
		if (strncmp(b, "goto_", 5) == 0) {
			char key[80];
			const char *g, *open, *close;

			snprintf(key, sizeof(key), "\t%s [", b);
			g = strstr(dot, key);
			open = g ? strstr(g, " (") : NULL;
			close = open ? strstr(open, "):") : NULL;
			if (!close)
				continue;
			to = stage_by_id(open + 2, (size_t)(close - open - 2));
		} else {
			to = stage_by_id(b, strlen(b));
		}
		if (to >= 0)
			adj[from][to] = 1;
	}
}

/* Shortest path from @a to @b in at most @max steps, or -1. */
static int distance(unsigned char adj[SIM_STAGE_COUNT][SIM_STAGE_COUNT], int a, int b, int max)
{
	int dist[SIM_STAGE_COUNT], queue[SIM_STAGE_COUNT], head = 0, tail = 0;

	for (int i = 0; i < SIM_STAGE_COUNT; i++)
		dist[i] = -1;
	dist[a] = 0;
	queue[tail++] = a;
	while (head < tail) {
		int u = queue[head++];

		if (u == b && u != a)
			return dist[u];
		for (int v = 0; v < SIM_STAGE_COUNT; v++)
			if (adj[u][v] && (dist[v] < 0 || (v == a && dist[v] == 0))) {
				if (v == b)
					return dist[u] + 1 <= max ? dist[u] + 1 : -1;
				if (dist[v] < 0) {
					dist[v] = dist[u] + 1;
					queue[tail++] = v;
				}
			}
	}
	return -1;
}

/*
 * Each stage-to-stage step in a shipped scenario's picture (capsim sim
 * --dot: node n<host * SIM_STAGE_COUNT + stage>) is an edge of the
 * overview, or a short path through it: stages a packet passes without a
 * report (a hook with no rules, eth_type_trans) are skipped in the
 * scenario's picture, never more than three in a row.
 */
static void test_scenario_paths_follow_overview(void **state)
{
	static unsigned char adj[SIM_STAGE_COUNT][SIM_STAGE_COUNT];
	static char names[64][128];
	char *dot = overview_dot();
	int n, steps = 0, bad = 0;

	(void)state;
	assert_non_null(dot);
	overview_edges(dot, adj);
	n = list("docs/pictures", ".dot", names, 64);
	for (int i = 0; i < n; i++) {
		char path[256];
		char *scn;
		const char *p;

		if (strncmp(names[i], "scenario-", 9) != 0)
			continue;
		snprintf(path, sizeof(path), "docs/pictures/%.127s", names[i]);
		scn = slurp(path, NULL);
		assert_non_null(scn);
		for (p = scn; (p = strstr(p, "\tn")); p++) {
			unsigned a, b;
			int sa, sb;

			if (sscanf(p, "\tn%u -> n%u [", &a, &b) != 2)
				continue;
			sa = (int)(a % SIM_STAGE_COUNT);
			sb = (int)(b % SIM_STAGE_COUNT);
			steps++;
			if (distance(adj, sa, sb, 4) < 0) {
				print_message("%s: %s -> %s is no path in the overview\n", path,
					      stages[sa].id, stages[sb].id);
				bad++;
			}
		}
		free(scn);
	}
	print_message("%d scenario steps follow the overview's edges\n", steps);
	assert_true(steps > 100);
	assert_int_equal(bad, 0);
	free(dot);
}

/* ------------------------------------------------------------------ */
/* The man page covers every command's options. */

static void test_man_page_covers_options(void **state)
{
	static const char *const cmds[] = {
		"--help", "filter check --help", "filter compile --help", "filter run --help",
		"filter disasm --help", "filter asm --help", "filter dot --help",
		"filter step --help", "filter diff --help", "sim --help", "live --help",
		"live filter --help", "live scenarios/egress-netfilter-drop.scn --help",
		"trace gen --help", "fuzz programs --help",
		"fuzz compiler --help", "bench --help",
	};
	char *man = slurp("docs/capsim.txt", NULL);
	int options = 0, missing = 0;

	(void)state;
	assert_non_null(man);
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		char *out, *err;
		const char *p;

		run(cmds[c], &out, &err);
		/* Options are the words starting with '-' in the help's
		 * option lists and usage lines. */
		for (p = out; (p = strchr(p, '-')); ) {
			char opt[64];
			size_t n = 0;

			if ((p > out && p[-1] != ' ' && p[-1] != '[' && p[-1] != '(' &&
			     p[-1] != '|' && p[-1] != ',') ||
			    !(p[1] == '-' || (p[1] >= 'a' && p[1] <= 'z') ||
			      (p[1] >= 'A' && p[1] <= 'Z'))) {
				p++;
				continue;
			}
			while (n < sizeof(opt) - 1 &&
			       ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
				(p[n] >= '0' && p[n] <= '9') || p[n] == '-'))
				opt[n] = p[n], n++;
			opt[n] = '\0';
			p += n;
			if (n < 2 || opt[n - 1] == '-' || (opt[1] != '-' && n > 3))
				continue;	/* "-ddd", "ETH-" and other words */
			options++;
			{
				const char *m = man;
				int found = 0;

				while (!found && (m = strstr(m, opt))) {
					char after = m[strlen(opt)];

					found = (m == man || m[-1] == ' ' || m[-1] == '[' ||
						 m[-1] == '(' || m[-1] == ',') &&
						!((after >= 'a' && after <= 'z') || after == '-');
					m++;
				}
				if (!found) {
					print_message("capsim %s lists %s; docs/capsim.1 does not\n",
						      cmds[c], opt);
					missing++;
				}
			}
		}
		free(out);
		free(err);
	}
	print_message("%d options checked against the man page\n", options);
	assert_true(options > 100);
	assert_int_equal(missing, 0);
	free(man);
}

/* ------------------------------------------------------------------ */
/* The labs. */

static void test_every_scenario_has_a_lab(void **state)
{
	static char names[64][128];
	int n = list("scenarios", ".scn", names, 64), missing = 0;
	char *index = slurp("docs/course/README.md", NULL);

	(void)state;
	assert_non_null(index);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++) {
		char path[256], link[256];

		names[i][strlen(names[i]) - 4] = '\0';
		snprintf(path, sizeof(path), "docs/course/%s.md", names[i]);
		snprintf(link, sizeof(link), "(%s.md)", names[i]);
		if (!exists(path) || !strstr(index, link)) {
			print_message("scenarios/%s.scn has no lab in docs/course/ (or no link in "
				      "its README.md)\n",
				      names[i]);
			missing++;
		}
	}
	assert_int_equal(missing, 0);
	free(index);
}

/* Can this machine run what a root-prompt line asks for? */
static int live_scenarios_available(void)
{
	static int known = -1;

	if (known < 0) {
		char *out, *err;

		run("live --help", &out, &err);
		known = strstr(out, "SCENARIO") != NULL;
		free(out);
		free(err);
	}
	return known;
}

/*
 * Run the commands of one lab.  In a ```console block a line "$ CMD" is a
 * command anyone can run, "# CMD" one for root; the lines after it, up to
 * the next command or the block's end, are what it prints - each must
 * appear in its output ("..." stands for lines left out).  Commands run
 * in order, in one folder (the top of the repository), with `capsim` on
 * the PATH being the program under test.
 */
static void run_lab(const char *path, int *commands, int *lines, int *skipped, int *failed)
{
	char *md = slurp(path, NULL), *out = NULL;
	char *save = NULL, *line;
	int in_block = 0, ran = 0, skip_this = 0;
	char cmd[4096];

	assert_non_null(md);
	for (line = strtok_r(md, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "```", 3) == 0) {
			in_block = !in_block && strncmp(line, "```console", 10) == 0;
			continue;
		}
		if (!in_block)
			continue;
		if (strncmp(line, "$ ", 2) == 0 || strncmp(line, "# ", 2) == 0) {
			int root = line[0] == '#';

			free(out);
			out = NULL;
			ran = 0;
			skip_this = root && (geteuid() != 0 ||
					     (strstr(line, "capsim live ") && !strstr(line, "live filter") &&
					      !live_scenarios_available()));
			if (skip_this) {
				print_message("%s: skipped (%s): %s\n", path,
					      geteuid() ? "needs root" : "capsim live SCENARIO is not built",
					      line + 2);
				(*skipped)++;
				continue;
			}
			snprintf(cmd, sizeof(cmd), "cd \"$DOCS_TOP\" && %s", line + 2);
			(void)shell(cmd, &out);
			ran = 1;
			(*commands)++;
			continue;
		}
		if (!ran || skip_this)
			continue;
		{
			const char *want = line;
			size_t l;

			while (*want == ' ')
				want++;
			l = strlen(want);
			while (l && want[l - 1] == ' ')
				l--;
			if (l == 0 || (l == 3 && strncmp(want, "...", 3) == 0))
				continue;
			(*lines)++;
			{
				char w[1024];

				snprintf(w, sizeof(w), "%.*s", (int)l, want);
				if (!strstr(out, w)) {
					print_message("%s: the output does not contain:\n  %s\n"
						      "it was:\n%.1500s\n",
						      path, w, out);
					(*failed)++;
				}
			}
		}
	}
	free(out);
	free(md);
}

static void test_lab_commands(void **state)
{
	static char names[64][128];
	char bin[128], link[160], top[PATH_MAX], prog[PATH_MAX], *path_env;
	int n, commands = 0, lines = 0, skipped = 0, failed = 0;

	(void)state;
	/* `capsim` in the labs is the program under test. */
	assert_non_null(realpath(capsim, prog));
	assert_non_null(getcwd(top, sizeof(top)));
	snprintf(bin, sizeof(bin), "%s/bin", tmpdir);
	snprintf(link, sizeof(link), "%s/capsim", bin);
	assert_int_equal(mkdir(bin, 0755), 0);
	assert_int_equal(symlink(prog, link), 0);
	path_env = malloc(strlen(bin) + strlen(getenv("PATH") ? getenv("PATH") : "") + 2);
	sprintf(path_env, "%s:%s", bin, getenv("PATH") ? getenv("PATH") : "");
	setenv("PATH", path_env, 1);
	setenv("DOCS_TOP", top, 1);
	n = list("docs/course", ".md", names, 64);
	for (int i = 0; i < n; i++) {
		char path[256];

		snprintf(path, sizeof(path), "docs/course/%.127s", names[i]);
		run_lab(path, &commands, &lines, &skipped, &failed);
	}
	print_message("%d lab commands run, %d output lines checked, %d skipped\n", commands,
		      lines, skipped);
	free(path_env);
	assert_true(commands >= (geteuid() == 0 ? 40 : 20));
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overview_current),
		cmocka_unit_test(test_sources_current),
		cmocka_unit_test(test_overview_draws_every_drop),
		cmocka_unit_test(test_scenario_paths_follow_overview),
		cmocka_unit_test(test_man_page_covers_options),
		cmocka_unit_test(test_every_scenario_has_a_lab),
		cmocka_unit_test(test_lab_commands),
	};

	return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}

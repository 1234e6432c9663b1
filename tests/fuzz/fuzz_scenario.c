/*
 * fuzz_scenario.c - the scenario parser on arbitrary text.  A refusal must
 * name its place ("fuzz:LINE:COL: ..."); whatever parses must write out in
 * canonical form, parse again, and write the same text again (the printer
 * and the parser agree on every field the printer shows).  Anything else
 * aborts.
 */
#include "scenario.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_scenario: %s\n%s\n", what, detail ? detail : "");
	abort();
}

static char *written(const struct sim_scenario *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	if (sim_scenario_write(f, s) != 0)
		die("write failed", NULL);
	if (fclose(f) != 0)
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *once, *twice;
	char err[SIM_SCN_ERRBUF_SIZE] = "";
	struct sim_scenario *s = NULL, *t = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (sim_scenario_parse(text, "fuzz", &s, err) != 0) {
		unsigned line, col;

		if (s || sscanf(err, "fuzz:%u:%u: ", &line, &col) != 2 || line == 0 || col == 0)
			die("error without a place", err);
		free(text);
		return 0;
	}
	once = written(s);
	if (sim_scenario_parse(once, "rt", &t, err) != 0)
		die(err, once);
	twice = written(t);
	if (strcmp(once, twice) != 0)
		die("round trip differs", twice);
	free(once);
	free(twice);
	sim_scenario_free(t);
	sim_scenario_free(s);
	free(text);
	return 0;
}

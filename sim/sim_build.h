/* sim_build.h - scenario to world (build.c); private to sim/. */
#ifndef CAPSIM_SIM_BUILD_H
#define CAPSIM_SIM_BUILD_H

#include "model.h"
#include "scenario.h"

/* The parser's size: sim_scn_tap_program() (scenario.h) writes build
 * errors into a SIM_SCN_ERRBUF_SIZE buffer. */
#define SIM_BUILD_ERRBUF_SIZE SIM_SCN_ERRBUF_SIZE

/* Build the world @sc describes.  0 and *@out (free with
 * sim_world_free()), or -1 with "file:line:col: sentence" in @errbuf. */
int sim_build(const struct sim_scenario *sc, struct sim_world **out, char *errbuf);

#endif

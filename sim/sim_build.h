/* sim_build.h - scenario to world (build.c); private to sim/. */
#ifndef CAPSIM_SIM_BUILD_H
#define CAPSIM_SIM_BUILD_H

#include "model.h"
#include "scenario.h"

#define SIM_BUILD_ERRBUF_SIZE 512

/* Build the world @sc describes.  0 and *@out (free with
 * sim_world_free()), or -1 with "file:line:col: sentence" in @errbuf. */
int sim_build(const struct sim_scenario *sc, struct sim_world **out, char *errbuf);

#endif

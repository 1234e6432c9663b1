/*
 * kdefaults.h - the net.core defaults of the running kernel (6.18,
 * CONFIG_HZ=250, read with sysctl), for the model's hosts (world.c) and
 * for a scenario that sets none (scenario.c): one set for both.
 *
 * netdev_budget 300 and dev_weight 64 are constants in net/core/dev.c;
 * netdev_budget_usecs is 2 * USEC_PER_SEC / HZ there, so 8000 at HZ=250
 * (2000 only at HZ=1000); netdev_max_backlog 1000; rmem_default 212992
 * (SK_RMEM_DEFAULT) and rmem_max 4194304 on this kernel (older kernels:
 * 212992).
 */
#ifndef CAPSIM_SIM_KDEFAULTS_H
#define CAPSIM_SIM_KDEFAULTS_H

#define SIM_DEF_NETDEV_BUDGET		300
#define SIM_DEF_NETDEV_BUDGET_USECS	8000
#define SIM_DEF_MAX_BACKLOG		1000
#define SIM_DEF_DEV_WEIGHT		64
#define SIM_DEF_RMEM_DEFAULT		212992
#define SIM_DEF_RMEM_MAX		4194304

#endif

/* backend.c: the KV test backend's table. The instance carries no state: everything lives
 * in storage, so any number of mounts and threads can share the code. */
#include <stdlib.h>

#include "kv.h"

#ifndef PKIEXT_VERSION
#define PKIEXT_VERSION "v0.1.0"
#endif

/* A mount needs a non-NULL instance; a static byte is enough. */
static char kv_instance;

static void *kv_setup(const struct fw_env *env, struct err *e)
{
    return &kv_instance;
}

static const struct fw_path *const kv_paths[] = {
    &kv_path_data_list, &kv_path_data, &kv_path_config, &kv_path_stats, NULL,
};

const struct fw_backend kv_backend = {
    .name = "kv-test",
    .version = PKIEXT_VERSION,
    .help = "A small key/value store for testing the plugin runtime and framework.",
    .paths = kv_paths,
    .setup = kv_setup,
    .periodic = kv_periodic,
};

/* kv.h: a tiny key/value secrets engine on the framework, used by the host test suite
 * (test/host) and the benchmarks. Paths:
 *   data/?              LIST: keys stored under data/
 *   data/(?<path>.+)    read/create/update/delete: the request body stored as is
 *   config              typed fields, existence check (create vs update)
 *   stats               read {"rollbacks": N}; N counts periodic (rollback) calls */
#ifndef PKIEXT_KV_H
#define PKIEXT_KV_H

#include "fw.h"

extern const struct fw_backend kv_backend;

extern const struct fw_path kv_path_data_list;
extern const struct fw_path kv_path_data;
extern const struct fw_path kv_path_config;
extern const struct fw_path kv_path_stats;

/* The periodic function: increments the rollback counter at storage key "stats". */
int kv_periodic(const struct fw_req *req, struct err *e);

#endif

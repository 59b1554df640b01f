/* order_paths.c: the order and lookup paths, in the order the framework should try them. */
#include "../internal.h"

extern const struct fw_path path_order_new, path_order_status, path_order_challenge,
    path_order_fulfilled, path_order_fetch, path_order_revoke, path_role_active_orders,
    path_role_cached, path_lookup_cert, path_lookup_order, path_lookup_orders,
    path_lookup_orders_recent, path_order_issue, path_tidy, path_tidy_status, path_tidy_cancel,
    path_config_auto_tidy;

const struct fw_path *const order_paths[] = {
    &path_order_new,
    &path_order_issue,
    &path_order_status,
    &path_order_challenge,
    &path_order_fulfilled,
    &path_order_fetch,
    &path_order_revoke,
    &path_role_active_orders,
    &path_role_cached,
    &path_lookup_cert,
    &path_lookup_order,
    &path_lookup_orders_recent,
    &path_lookup_orders,
    &path_tidy,
    &path_tidy_status,
    &path_tidy_cancel,
    &path_config_auto_tidy,
    NULL
};

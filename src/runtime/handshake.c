/* handshake.c: the go-plugin handshake as pure functions over strings, so the unit tests
 * can check every rule without starting a server. */
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rt_env(const char *suffix)
{
    char name[128];
    snprintf(name, sizeof name, "BAO_%s", suffix);
    const char *v = getenv(name);
    if (v)
        return v;
    snprintf(name, sizeof name, "VAULT_%s", suffix);
    return getenv(name);
}

bool handshake_cookie_ok(const char *value)
{
    return value && strcmp(value, RT_COOKIE_VALUE) == 0;
}

/* True when the comma-separated list holds the number want (spaces tolerated). */
static bool list_has(const char *list, int want)
{
    const char *p = list;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end != p && v == want) {
            while (*end == ' ')
                end++;
            if (*end == ',' || *end == '\0')
                return true;
        }
        const char *comma = strchr(p, ',');
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

int handshake_pick_version(const char *offered, int *version, struct err *e)
{
    if (offered && list_has(offered, RT_PROTOCOL_VERSION)) {
        *version = RT_PROTOCOL_VERSION;
        return 0;
    }
    return err_set(e, ERR_INVALID,
                   "this plugin speaks plugin protocol version %d only (AutoMTLS), and the host "
                   "offered \"%s\": it needs Vault >= 1.12 or OpenBao 2.x",
                   RT_PROTOCOL_VERSION, offered ? offered : "");
}

int handshake_format_line(char *buf, size_t len, int version, const char *sock_path,
                          const char *cert_b64)
{
    int n = snprintf(buf, len, "1|%d|unix|%s|grpc|%s\n", version, sock_path, cert_b64);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

void handshake_print_not_a_program(const char *backend_name)
{
    fprintf(stderr,
            "This binary is a Vault/OpenBao secrets engine plugin (%s), not a program to run "
            "by hand.\n"
            "Copy it into the server's plugin_directory, then register and enable it:\n"
            "  vault plugin register -sha256=$(sha256sum <binary> | cut -d' ' -f1) secret <name>\n"
            "  vault secrets enable -path=<path> <name>\n",
            backend_name ? backend_name : "plugin");
}

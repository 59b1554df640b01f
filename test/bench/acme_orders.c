/* acme_orders.c: benchmark driver: N sequential http-01 orders (new order, authorization,
 * challenge through challtestsrv, finalize, download) with this ACME client against the
 * Pebble that test/lib/pebble.sh started. Prints "acme_orders: N orders in S s".
 * Usage: acme_orders [N]   (environment from pebble.sh) */
#include "../acme/pebble_env.h"

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20;
    struct crypto_key *k = NULL;
    double t0 = pe_now();
    struct acme_client *c = pe_account(&k);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "bench-%d-%d.example.com", (int)getpid(), i);
        const char *ids[] = { name, NULL };
        struct crypto_key *ck = NULL;
        char *pem = pe_issue(c, ids, "http-01", &ck, NULL);
        if (!pem || !strstr(pem, "BEGIN CERTIFICATE")) {
            fprintf(stderr, "acme_orders: order %d failed\n", i);
            return 1;
        }
        free(pem);
        crypto_key_free(ck);
    }
    double dt = pe_now() - t0;
    printf("acme_orders: %d orders in %.2f s (%.0f ms per order)\n", n, dt, dt * 1000 / n);
    acme_client_free(c);
    crypto_key_free(k);
    return 0;
}

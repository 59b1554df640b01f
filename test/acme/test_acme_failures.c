/* test_acme_failures.c: failures must be fast and clear, never a hang: an unreachable
 * directory, a wrong trusted_ca, a URL that is not a directory, a CA that stops answering
 * (SIGSTOP: the request times out), and Pebble killed mid-order then restarted (its state is
 * gone: a clean upstream error naming the problem). */
#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "pebble_env.h"

/* A loopback port nobody listens on (bound then closed). */
static int closed_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static struct acme_client *client_for(const char *url, const char *ca_pem, long timeout_ms,
                                      struct crypto_key *k)
{
    struct err e = { 0 };
    struct acme_client *c = NULL;
    struct acme_client_opts o = { .directory_url = url, .account_key = k,
                                  .trusted_ca_pem = ca_pem, .connect_timeout_ms = 2000,
                                  .timeout_ms = timeout_ms };
    if (acme_client_new(&o, &c, &e))
        fail_msg("client: %s", e.msg);
    return c;
}

static void test_unreachable(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_directory d = { 0 };
    char url[128];
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/dir", closed_port());
    struct acme_client *c = client_for(url, NULL, 5000, k);
    double t0 = pe_now();
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), -1);
    double dt = pe_now() - t0;
    fprintf(stderr, "unreachable (%.3f s): %s\n", dt, e.msg);
    assert_int_equal(e.kind, ERR_RETRY);
    assert_non_null(strstr(e.msg, "unreachable"));
    assert_non_null(strstr(e.msg, url));
    assert_true(dt < 2.0);
    /* Every operation reports the same, not a crash or a NULL deref. */
    const char *ids[] = { "x.example.com", NULL };
    struct acme_order_req req = { .identifiers = ids };
    struct acme_account a = { 0 };
    assert_int_equal(acme_new_account(c, NULL, true, NULL, &a, NULL, &e), -1);
    assert_int_equal(e.kind, ERR_RETRY);
    struct acme_order o = { 0 };
    assert_int_equal(acme_new_order(c, &req, &o, NULL, &e), -1);
    acme_client_free(c);
    crypto_key_free(k);
}

static void test_wrong_trusted_ca(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_directory d = { 0 };
    /* Pebble's issuing root: a real CA, just not the one that signed the WFE certificate. */
    char *wrong = pe_mgmt_get("/roots/0");
    assert_non_null(wrong);
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    struct acme_client *c = client_for(pe_env("PEBBLE_DIR_URL"), wrong, 5000, k);
    double t0 = pe_now();
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), -1);
    double dt = pe_now() - t0;
    fprintf(stderr, "wrong trusted_ca (%.3f s): %s\n", dt, e.msg);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "not trusted"));
    assert_non_null(strstr(e.msg, "trusted_ca"));
    assert_true(dt < 2.0);
    acme_client_free(c);

    /* The system store does not know Pebble's test CA either. */
    c = client_for(pe_env("PEBBLE_DIR_URL"), NULL, 5000, k);
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), -1);
    fprintf(stderr, "system store: %s\n", e.msg);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "system store"));
    acme_client_free(c);

    /* Garbage trusted_ca is the caller's mistake. */
    struct acme_client_opts o = { .directory_url = pe_env("PEBBLE_DIR_URL"), .account_key = k,
                                  .trusted_ca_pem = "not a pem" };
    assert_int_equal(acme_client_new(&o, &c, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    o.trusted_ca_pem = NULL;
    o.directory_url = "ftp://example.com/dir";
    assert_int_equal(acme_client_new(&o, &c, &e), -1);
    assert_int_equal(e.kind, ERR_INVALID);
    free(wrong);
    crypto_key_free(k);
}

static void test_not_a_directory(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_directory d = { 0 };
    char url[256];
    char *ca = pe_read_file(pe_env("PEBBLE_CA_PEM"));
    snprintf(url, sizeof url, "%s/roots/0", pe_env("PEBBLE_MGMT_URL"));
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    struct acme_client *c = client_for(url, ca, 5000, k);
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), -1);
    fprintf(stderr, "not a directory: %s\n", e.msg);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    acme_client_free(c);
    /* A 404 from the right server. */
    snprintf(url, sizeof url, "%s/no-such-dir", pe_env("PEBBLE_MGMT_URL"));
    c = client_for(url, ca, 5000, k);
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), -1);
    fprintf(stderr, "404 directory: %s\n", e.msg);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    acme_client_free(c);
    free(ca);
    crypto_key_free(k);
}

static pid_t pebble_pid(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pebble.pid", pe_env("PEBBLE_TMP"));
    char *s = pe_read_file(path);
    assert_non_null(s);
    pid_t p = (pid_t)atoi(s);
    free(s);
    assert_true(p > 1);
    return p;
}

/* kill(SIGSTOP) returns before every thread of the target has stopped: on a loaded machine
 * (or a VM whose other vCPU is descheduled) Pebble answered a request sent right after it.
 * So wait until each of its threads shows state T in /proc. */
static void wait_stopped(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    for (int tries = 0; tries < 500; tries++) {
        DIR *d = opendir(dir);
        assert_non_null(d);
        bool all = true;
        struct dirent *de;
        while ((de = readdir(d)) && all) {
            if (de->d_name[0] == '.')
                continue;
            char path[384], buf[512];
            snprintf(path, sizeof path, "%s/%s/stat", dir, de->d_name);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;   /* the thread ended */
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            const char *rp = strrchr(buf, ')');   /* "pid (comm) S ...": comm may hold spaces */
            if (!rp || rp[1] != ' ' || rp[2] != 'T')
                all = false;
        }
        closedir(d);
        if (all)
            return;
        usleep(10000);
    }
    fail_msg("pebble (pid %d) did not stop within 5 s of SIGSTOP", (int)pid);
}

static void test_killed_mid_order(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_account a = { 0 };
    struct acme_order o = { 0 };
    struct acme_reply rep = { 0 };
    char *ca = pe_read_file(pe_env("PEBBLE_CA_PEM"));
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    struct acme_client *c = client_for(pe_env("PEBBLE_DIR_URL"), ca, 2000, k);
    PE_STEP(e, acme_new_account(c, NULL, true, NULL, &a, NULL, &e));
    const char *ids[] = { "killed.example.com", NULL };
    struct acme_order_req req = { .identifiers = ids };
    acme_account_clear(&a);
    PE_STEP(e, acme_new_order(c, &req, &o, NULL, &e));
    char *url = strdup(o.url);
    acme_order_clear(&o);

    /* Frozen CA: the connection is up but nothing answers. Bounded by timeout_ms. */
    pid_t pid = pebble_pid();
    assert_int_equal(kill(pid, SIGSTOP), 0);
    wait_stopped(pid);
    double t0 = pe_now();
    assert_int_equal(acme_get_order(c, url, &o, &rep, &e), -1);
    double dt = pe_now() - t0;
    fprintf(stderr, "frozen CA (%.3f s): %s\n", dt, e.msg);
    assert_int_equal(e.kind, ERR_RETRY);
    assert_true(dt < 4.0);

    /* Killed: refused at once. */
    kill(pid, SIGKILL);
    kill(pid, SIGCONT);
    usleep(200000);
    t0 = pe_now();
    assert_int_equal(acme_get_order(c, url, &o, &rep, &e), -1);
    dt = pe_now() - t0;
    fprintf(stderr, "killed CA (%.3f s): %s\n", dt, e.msg);
    assert_int_equal(e.kind, ERR_RETRY);
    assert_int_equal(rep.http_status, 0);
    assert_true(dt < 2.0);

    /* Restarted: Pebble keeps nothing, so the stored order (and account) are gone. The
     * client says so in the CA's words, after at most a few badNonce re-sends. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "%s >/dev/null", pe_env("PEBBLE_RESTART"));
    assert_int_equal(system(cmd), 0);
    t0 = pe_now();
    int rc = acme_get_order(c, url, &o, &rep, &e);
    dt = pe_now() - t0;
    fprintf(stderr, "restarted CA (%.3f s): %s\n", dt, e.msg);
    assert_int_equal(rc, -1);
    assert_int_equal(e.kind, ERR_UPSTREAM);
    assert_non_null(strstr(e.msg, "acme: urn:ietf:params:acme:error:"));
    assert_true(dt < 4.0);
    /* And the client is usable again: a new account on the new CA works. */
    PE_STEP(e, acme_new_account(c, NULL, true, NULL, &a, NULL, &e));
    assert_true(a.created);
    PE_STEP(e, acme_new_order(c, &req, &o, NULL, &e));
    assert_int_equal(o.status, ACME_STATUS_PENDING);

    acme_order_clear(&o);
    acme_account_clear(&a);
    acme_reply_clear(&rep);
    free(url);
    free(ca);
    acme_client_free(c);
    crypto_key_free(k);
}

/* HTTPS_PROXY is honoured (libcurl's environment handling is left alone), and NO_PROXY
 * exempts a host. A dead proxy proves the first; the second then connects directly. */
static void test_proxy_env(void **state)
{
    struct err e = { 0 };
    struct crypto_key *k = NULL;
    struct acme_directory d = { 0 };
    char proxy[64];
    char *ca = pe_read_file(pe_env("PEBBLE_CA_PEM"));
    assert_int_equal(crypto_key_generate(CRYPTO_KEY_EC256, &k, &e), 0);
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port());
    setenv("HTTPS_PROXY", proxy, 1);
    setenv("https_proxy", proxy, 1);
    unsetenv("NO_PROXY");
    unsetenv("no_proxy");
    struct acme_client *c = client_for(pe_env("PEBBLE_DIR_URL"), ca, 5000, k);
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), -1);
    fprintf(stderr, "through a dead proxy: %s\n", e.msg);
    assert_int_equal(e.kind, ERR_RETRY);
    acme_client_free(c);
    setenv("NO_PROXY", "127.0.0.1", 1);
    c = client_for(pe_env("PEBBLE_DIR_URL"), ca, 5000, k);
    assert_int_equal(acme_get_directory(c, false, &d, NULL, &e), 0);
    acme_directory_clear(&d);
    acme_client_free(c);
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    unsetenv("NO_PROXY");
    free(ca);
    crypto_key_free(k);
}

int main(void)
{
    pe_env("PEBBLE_DIR_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_wrong_trusted_ca),
        cmocka_unit_test(test_not_a_directory),
        cmocka_unit_test(test_proxy_env),
        cmocka_unit_test(test_killed_mid_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

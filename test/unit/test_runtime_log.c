/* test_runtime_log.c: hclog JSON lines as go-plugin parses them (vault-plugin-protocol.md §7):
 * one valid JSON object per line, string @level/@message/@timestamp, exactly six fractional
 * digits in @timestamp, levels below the threshold dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "log.h"

/* Runs one log call with stderr redirected into a pipe; returns what was written. */
static void capture(void (*emit)(void), char *buf, size_t len)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    int saved = dup(STDERR_FILENO);
    dup2(fds[1], STDERR_FILENO);
    emit();
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fds[1]);
    ssize_t n = read(fds[0], buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fds[0]);
}

static void emit_info(void)
{
    log_info("runtime", "backend \"set\" up\nnext", "broker_id", "1", "path", "a\tb", NULL);
}

static void emit_debug(void)
{
    log_debug("runtime", "hidden", NULL);
}

static void test_line_shape(void **state)
{
    char buf[2048];
    log_init("info");
    capture(emit_info, buf, sizeof buf);
    char *nl = strchr(buf, '\n');
    assert_non_null(nl);
    assert_string_equal(nl + 1, "");   /* exactly one line */
    cJSON *o = cJSON_Parse(buf);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "@level")->valuestring, "info");
    assert_string_equal(cJSON_GetObjectItem(o, "@message")->valuestring,
                        "backend \"set\" up\nnext");
    assert_string_equal(cJSON_GetObjectItem(o, "@module")->valuestring, "runtime");
    assert_string_equal(cJSON_GetObjectItem(o, "broker_id")->valuestring, "1");
    assert_string_equal(cJSON_GetObjectItem(o, "path")->valuestring, "a\tb");
    const char *ts = cJSON_GetObjectItem(o, "@timestamp")->valuestring;
    /* 2006-01-02T15:04:05.000000Z */
    assert_int_equal(strlen(ts), 27);
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[26], 'Z');
    for (int i = 20; i < 26; i++)
        assert_true(ts[i] >= '0' && ts[i] <= '9');
    cJSON_Delete(o);
}

static void test_levels(void **state)
{
    char buf[512];
    log_init("info");
    assert_int_equal(log_level_get(), LOG_INFO);
    capture(emit_debug, buf, sizeof buf);
    assert_string_equal(buf, "");
    log_init("DEBUG");
    assert_int_equal(log_level_get(), LOG_DEBUG);
    capture(emit_debug, buf, sizeof buf);
    assert_non_null(strstr(buf, "\"@level\":\"debug\""));
    log_init("bogus");   /* unknown keeps the current level */
    assert_int_equal(log_level_get(), LOG_DEBUG);
    log_init("off");
    capture(emit_info, buf, sizeof buf);
    assert_string_equal(buf, "");
    log_init("info");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_shape),
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

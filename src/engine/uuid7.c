/* uuid7.c: RFC 9562 version 7 UUIDs for order ids. 48 bits of unix milliseconds, then
 * 12 bits used as a counter within the millisecond (RFC 9562 6.2 method 1) so ids made
 * by this process sort in creation order, then 62 random bits. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "orders/order.h"

/* The last timestamp and counter handed out. Process-wide on purpose: monotonic ordering
 * has to hold across every mount and thread of the process. */
static pthread_mutex_t uuid7_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid7_last_ms;
static unsigned uuid7_counter;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int uuid7_new(char out[37], struct err *e)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return err_set(e, ERR_INTERNAL, "uuid7_new: RAND_bytes failed");

    pthread_mutex_lock(&uuid7_mu);
    uint64_t ms = now_ms();
    if (ms <= uuid7_last_ms) {
        /* Same millisecond (or the clock stepped back): keep the last time and count up;
         * when the counter runs out, borrow the next millisecond. */
        ms = uuid7_last_ms;
        if (++uuid7_counter > 0xfff) {
            ms++;
            uuid7_counter = 0;
        }
    } else {
        /* Start the counter low but random, leaving room to count up. */
        uuid7_counter = b[6] & 0x3f;
    }
    uuid7_last_ms = ms;
    unsigned counter = uuid7_counter;
    pthread_mutex_unlock(&uuid7_mu);

    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)(0x70 | ((counter >> 8) & 0x0f));
    b[7] = (unsigned char)(counter & 0xff);
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));

    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
             b[12], b[13], b[14], b[15]);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool uuid7_valid(const char *s)
{
    if (!s || strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : hexval(s[i]) < 0)
            return false;
    }
    return true;
}

int64_t uuid7_time_ms(const char *s)
{
    if (!uuid7_valid(s) || s[14] != '7')
        return 0;
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (s[i] == '-')
            continue;
        ms = ms * 16 + hexval(s[i]);
    }
    return ms;
}

/* deadline.c: the absolute time pthread_cond_timedwait wants, from a wait in milliseconds. */
#include "rt.h"

#include <time.h>

void rt_deadline_after_ms(int timeout_ms, struct timespec *until)
{
    /* CLOCK_REALTIME: the clock of a condition variable made with default attributes. */
    clock_gettime(CLOCK_REALTIME, until);
    until->tv_sec += timeout_ms / 1000;
    until->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000L;
    }
}

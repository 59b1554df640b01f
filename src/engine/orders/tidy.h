/* orders/tidy.h (private to src/engine): removing terminal orders past a retention period
 * (tidy.c runs it, path_tidy.c is the API). Thread-safe. */
#ifndef PKIEXT_ENGINE_TIDY_H
#define PKIEXT_ENGINE_TIDY_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "fw.h"

struct cJSON;
struct engine;
struct tidy;   /* the mount's run: its thread and flags (struct engine's tidy) */

/* What one run removes (POST tidy's and config/auto-tidy's fields). */
struct tidy_opts {
    bool tidy_orders;        /* terminal orders past the buffer, with everything of theirs */
    bool tidy_keys;          /* only the private keys (order-key/) of such orders */
    int64_t safety_buffer;   /* seconds after the certificate's expiry (or the order's end) */
    int64_t pause;           /* seconds between two orders */
};

/* Storage: the last run's status and progress; the auto-tidy configuration. */
#define TIDY_STATUS_KEY "tidy-status"
#define TIDY_AUTO_KEY "config/auto-tidy"

int tidy_new(struct tidy **out, struct err *e);
void tidy_free(struct tidy *t);   /* NULL ok; tidy_stop first */
/* Mount shutdown: stops the run at its next order and joins its thread. The stored status
 * stays "Running" with its cursor, so the run resumes on the next periodic call. */
void tidy_stop(struct engine *eng);

/* Starts a run in the background unless one runs in this process (*started false then).
 * The status "Running" is stored first, so on a node that may not write nothing starts
 * (ERR_READ_ONLY: the host forwards the request). */
int tidy_start(struct engine *eng, struct fw_storage *s, const struct tidy_opts *o,
               bool is_auto, bool *started, struct err *e);
/* Asks the running run to stop; *running false when none runs (nothing done). A run a
 * crash left "Running" in storage, not resumed yet, is marked "Cancelled". */
int tidy_cancel(struct engine *eng, struct fw_storage *s, bool *running, struct err *e);
/* The tidy-status reply (Vault PKI's field names): the live run's when one runs here, else
 * the stored one, else an "Inactive" status. *out is new. */
int tidy_status_reply(struct engine *eng, struct fw_storage *s, struct cJSON **out,
                      struct err *e);
/* Vault's periodic call, active node only: resumes an interrupted run; starts auto-tidy
 * when it is enabled and due. */
int tidy_periodic(const struct fw_req *req, struct err *e);

/* Go's spelling of a whole number of seconds ("72h0m0s", "0s") into buf (>= 32 bytes). */
const char *tidy_duration_str(int64_t secs, char *buf, size_t len);

#endif

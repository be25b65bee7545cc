/*
 * cosigning: submits each new checkpoint of the log to the operator's
 * witnesses (C2SP tlog-witness add-checkpoint), in a thread of its own that
 * works only while this conformd holds the checkpoint signing lock (see
 * logsigner.h), so that one instance of a database submits. Verified
 * cosignatures go to the database (core/witness.h). A witness that is away
 * or refuses is retried with a backoff and never holds up signing; a
 * refusal (a fork above all) is an error in the log and in the metrics.
 */
#ifndef CONFORM_COSIGNING_H
#define CONFORM_COSIGNING_H

#include "buf.h"
#include "config.h"
#include "error.h"
#include "witness.h"

struct server;

/* Reads the witnesses-file and witness-quorum settings; errors name them. */
cf_err cosigning_init(const struct config *cfg, struct cf_error *err) CF_MUST_CHECK;

/* The configured witnesses (never NULL after cosigning_init; n may be 0). */
const struct witness_set *cosigning_witnesses(void);

void cosigning_start(struct server *srv);
void cosigning_stop(void);

/* A new checkpoint was signed: submit it now rather than at the next poll. */
void cosigning_wake(void);

/* conform_witness_* metrics, per witness. */
cf_err cosigning_metrics(struct buf *b, struct cf_error *err) CF_MUST_CHECK;

#endif

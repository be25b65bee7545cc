/*
 * channels: the names of the PostgreSQL NOTIFY channels by which conformd
 * processes learn of changes made elsewhere (another instance, conformctl,
 * a trigger). One list, so that a sender and its listener cannot drift
 * apart; the migrations' triggers name the same strings, and
 * tests/unit/test_channels.c holds them to this list.
 */
#ifndef CONFORM_CHANNELS_H
#define CONFORM_CHANNELS_H

/* A certificate's status changed; payload: its serial. */
#define CHANNEL_CERTIFICATE "conform_certificate"

/* A new signed tree head; payload: the tree size it covers. */
#define CHANNEL_CHECKPOINT "conform_checkpoint"

/* A signing key or an accreditation event changed (payload: what, for the
 * log only): whatever a process holds of keys and accreditations is stale.
 * Sent by core/ and by the trigger conform_notify_flush (migration 0018). */
#define CHANNEL_FLUSH "conform_flush"

/* Every channel, as the initialiser of a NULL-terminated array (db_listen). */
#define CHANNELS_ALL { CHANNEL_CERTIFICATE, CHANNEL_CHECKPOINT, CHANNEL_FLUSH, NULL }

#endif

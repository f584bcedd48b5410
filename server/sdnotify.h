/*
 * sdnotify.h - the service manager's readiness protocol (sd_notify(3)),
 * spoken directly: one datagram on the unix socket named by $NOTIFY_SOCKET.
 * No libsystemd.  Without $NOTIFY_SOCKET (not started by systemd with
 * Type=notify) every call does nothing.
 */
#ifndef CB_SDNOTIFY_H
#define CB_SDNOTIFY_H

#include <stdbool.h>

/* True if $NOTIFY_SOCKET names a socket to tell. */
bool sdnotify_enabled(void);

/*
 * Send state ("READY=1", "STOPPING=1", "STATUS=...", several joined by '\n').
 * True if it was sent; false (errno set) if it could not be, or if there is
 * no socket (errno 0).  Never blocks the loop: the socket is non-blocking.
 */
bool sdnotify(const char *state);

#endif

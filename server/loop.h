/*
 * loop.h - the serve command: start-up order, the event loop, the 1 s tick,
 * signals and graceful shutdown.
 */
#ifndef CB_LOOP_H
#define CB_LOOP_H

#include "config.h"

/*
 * Run the daemon until SIGTERM/SIGINT; config_path (may be NULL) is re-read on
 * SIGHUP.  Takes ownership of cfg.  Returns the process exit code.
 */
int loop_serve(struct config *cfg, const char *config_path);

#endif

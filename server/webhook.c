/*
 * webhook.c - placeholder until the webhook delivery is written (issue 4).
 */
#include "webhook.h"

#include <stdlib.h>

#include "xmalloc.h"

struct webhooks {
	struct app *app; /* the process */
};

struct webhooks *webhooks_new(struct app *app)
{
	struct webhooks *w = xcalloc(1, sizeof *w);

	w->app = app;
	return w;
}

void webhooks_free(struct webhooks *w)
{
	free(w);
}

void webhooks_tick(struct webhooks *w)
{
	(void)w;
}

void webhooks_poke(struct webhooks *w)
{
	(void)w;
}

/*
 * work.c - the worker pool (see work.h).
 *
 * Owns: the threads, the job queue (mutex + condition variable) and a pipe
 * through which workers wake the loop when a job is done.  The loop side runs
 * completion callbacks in the order jobs finished.  The queue is a list of
 * lanes, one per key (a client address for sign-ins), served in turn, so a
 * flood from one key delays every other key by at most one job per worker.
 */
#include "work.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "list.h"
#include "log.h"
#include "xmalloc.h"

#define WORK_KEY_SIZE 64

struct job {
	TAILQ_ENTRY(job) entry;        /* in its lane's jobs, or in done */
	work_fn *fn;                   /* runs on a worker */
	work_done_cb *done;            /* runs on the loop */
	void *arg;                     /* theirs */
	char rid[LOG_REQUEST_ID_SIZE]; /* request id in force at submit, restored for done */
};

TAILQ_HEAD(job_list, job);

/* The jobs waiting under one key (a client address); lanes are served in turn. */
struct lane {
	TAILQ_ENTRY(lane) entry; /* in lanes */
	char key[WORK_KEY_SIZE]; /* "" for jobs submitted without one */
	struct job_list jobs;    /* waiting, oldest first */
	int n;                   /* length of jobs */
};

TAILQ_HEAD(lane_list, lane);

struct work {
	pthread_mutex_t lock;   /* protects lanes, done, ntodo, stopping */
	pthread_cond_t cond;    /* signalled when a job is queued or stopping is set */
	struct lane_list lanes; /* lanes with jobs waiting; a worker takes from the first */
	struct job_list done;   /* finished, callback not yet run */
	int ntodo;              /* jobs waiting in all lanes */
	int max_queue;          /* bound on ntodo */
	bool stopping;          /* workers exit when no job waits */
	pthread_t *threads;     /* owned */
	int nthreads;           /* how many */
	int pipefd[2];          /* workers write a byte to [1]; the loop reads [0] */
	struct event *ev_pipe;  /* read event on pipefd[0]; owned */
};

/*
 * The next job, round-robin across lanes: the first lane gives its oldest job
 * and goes to the back, so one key with many jobs waits behind every other
 * key's next one instead of in front of them (called with the lock held).
 */
static struct job *next_job(struct work *w)
{
	struct lane *ln = TAILQ_FIRST(&w->lanes);
	struct job *j;

	if (ln == NULL)
		return NULL;
	j = TAILQ_FIRST(&ln->jobs);
	TAILQ_REMOVE(&ln->jobs, j, entry);
	ln->n--;
	w->ntodo--;
	TAILQ_REMOVE(&w->lanes, ln, entry);
	if (ln->n > 0)
		TAILQ_INSERT_TAIL(&w->lanes, ln, entry);
	else
		free(ln);
	return j;
}

static void *worker_main(void *arg)
{
	struct work *w = arg;
	struct job *j;
	char byte = 1;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (TAILQ_EMPTY(&w->lanes) && !w->stopping)
			pthread_cond_wait(&w->cond, &w->lock);
		j = next_job(w);
		if (j == NULL) {
			pthread_mutex_unlock(&w->lock);
			return NULL;
		}
		pthread_mutex_unlock(&w->lock);

		j->fn(j->arg);

		pthread_mutex_lock(&w->lock);
		TAILQ_INSERT_TAIL(&w->done, j, entry);
		pthread_mutex_unlock(&w->lock);
		while (write(w->pipefd[1], &byte, 1) < 0 && errno == EINTR)
			;
	}
}

/* Run the callbacks of finished jobs (on the loop). */
static void work_drain(struct work *w)
{
	struct job_list ready;
	struct job *j;

	TAILQ_INIT(&ready);
	pthread_mutex_lock(&w->lock);
	TAILQ_CONCAT(&ready, &w->done, entry);
	pthread_mutex_unlock(&w->lock);
	while ((j = TAILQ_FIRST(&ready)) != NULL) {
		TAILQ_REMOVE(&ready, j, entry);
		char prev[LOG_REQUEST_ID_SIZE];

		log_request_begin(j->rid, prev);
		j->done(j->arg);
		log_request_end(prev);
		free(j);
	}
}

static void pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	char buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		;
	work_drain(arg);
}

struct work *work_new(struct event_base *base, int nthreads, int max_queue)
{
	struct work *w = xcalloc(1, sizeof *w);

	ASSERT(nthreads >= 1 && nthreads <= 16);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	TAILQ_INIT(&w->lanes);
	TAILQ_INIT(&w->done);
	w->max_queue = max_queue;
	if (pipe2(w->pipefd, O_NONBLOCK | O_CLOEXEC) != 0)
		assert_fail(__FILE__, __LINE__, "pipe2");
	w->ev_pipe = event_new(base, w->pipefd[0], EV_READ | EV_PERSIST, pipe_cb, w);
	event_add(w->ev_pipe, NULL);
	w->threads = xcalloc((size_t)nthreads, sizeof *w->threads);
	w->nthreads = nthreads;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0)
			assert_fail(__FILE__, __LINE__, "pthread_create");
	return w;
}

void work_free(struct work *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	work_drain(w);
	event_free(w->ev_pipe);
	close(w->pipefd[0]);
	close(w->pipefd[1]);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w->threads);
	free(w);
}

int work_submit(struct work *w, work_fn *fn, work_done_cb *done, void *arg)
{
	return work_submit_keyed(w, "", 0, fn, done, arg);
}

static struct lane *lane_find(struct work *w, const char *key)
{
	struct lane *ln;

	TAILQ_FOREACH(ln, &w->lanes, entry)
	if (strcmp(ln->key, key) == 0)
		return ln;
	return NULL;
}

int work_room(struct work *w, const char *key, int max_per_key)
{
	struct lane *ln;
	int rc = 0;

	pthread_mutex_lock(&w->lock);
	if (w->ntodo >= w->max_queue || w->stopping)
		rc = WORK_FULL;
	else if (max_per_key > 0 && (ln = lane_find(w, key)) != NULL && ln->n >= max_per_key)
		rc = WORK_KEY_FULL;
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int work_submit_keyed(struct work *w, const char *key, int max_per_key, work_fn *fn,
                      work_done_cb *done, void *arg)
{
	struct lane *ln;
	struct job *j;

	pthread_mutex_lock(&w->lock);
	if (w->ntodo >= w->max_queue || w->stopping) {
		pthread_mutex_unlock(&w->lock);
		return WORK_FULL;
	}
	ln = lane_find(w, key);
	if (ln != NULL && max_per_key > 0 && ln->n >= max_per_key) {
		pthread_mutex_unlock(&w->lock);
		return WORK_KEY_FULL;
	}
	if (ln == NULL) {
		ln = xcalloc(1, sizeof *ln);
		snprintf(ln->key, sizeof ln->key, "%s", key);
		TAILQ_INIT(&ln->jobs);
		TAILQ_INSERT_TAIL(&w->lanes, ln, entry);
	}
	j = xmalloc(sizeof *j);
	j->fn = fn;
	j->done = done;
	snprintf(j->rid, sizeof j->rid, "%s", log_request_id());
	j->arg = arg;
	TAILQ_INSERT_TAIL(&ln->jobs, j, entry);
	ln->n++;
	w->ntodo++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

/* One store connection and one CA per server thread, opened on first use
 * and closed at shutdown. A connection is never shared between threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "jpkid.h"
#include "banned.h"

static _Thread_local struct worker *mine;
static struct worker *all;
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;

struct worker *worker_get(void)
{
	if (mine)
		return mine;
	struct worker *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	struct jpki_errbuf eb = {{0}};
	if (jpki_store_open(cfg.store_url, &w->store, &eb) != JPKI_OK) {
		fprintf(stderr, "jpkid: cannot open the store: %s\n", eb.msg);
		free(w);
		return NULL;
	}
	if (jpki_ca_open(w->store, cfg.keys_dir, cfg.passphrase, &w->ca, &eb) !=
	    JPKI_OK) {
		fprintf(stderr, "jpkid: cannot open the CA: %s\n", eb.msg);
		jpki_store_close(w->store);
		free(w);
		return NULL;
	}
	pthread_mutex_lock(&all_mu);
	w->next = all;
	all = w;
	pthread_mutex_unlock(&all_mu);
	mine = w;
	return w;
}

void workers_close(void)
{
	pthread_mutex_lock(&all_mu);
	while (all) {
		struct worker *w = all;
		all = w->next;
		jpki_ca_close(w->ca);
		jpki_store_close(w->store);
		free(w);
	}
	pthread_mutex_unlock(&all_mu);
}

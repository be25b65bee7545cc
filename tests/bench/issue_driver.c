/*
 * bench_issue: issuance throughput through the API. Reads "APPLICATION-ID
 * TOKEN" lines (approved applications, each with a certifier token of its
 * body) and has THREADS clients, each with one libcurl easy handle (so one
 * kept-alive connection), take the next line and POST
 * /v1/applications/{id}/certificate until the lines run out or SECONDS have
 * passed. Prints one line:
 *   issued=N seconds=S per_second=R other=M
 * where other counts answers that are not 201 (and transfers that failed);
 * exits 1 when there is any, so that the benchmark stops on an error.
 *
 *   bench_issue BASE-URL FILE THREADS SECONDS
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

struct job {
	char id[40];
	char auth[160];
};

static struct job *jobs;
static size_t njobs;
static atomic_size_t next_job;
static atomic_long issued, other;
static const char *base;
static double deadline;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard(char *p, size_t size, size_t n, void *cls)
{
	(void)p;
	(void)cls;
	return size * n;
}

static void *client(void *arg)
{
	(void)arg;
	CURL *c = curl_easy_init();
	if (!c) {
		atomic_fetch_add(&other, 1);
		return NULL;
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	for (;;) {
		size_t i = atomic_fetch_add(&next_job, 1);
		if (i >= njobs || now() >= deadline)
			break;
		char url[512];
		snprintf(url, sizeof url, "%s/v1/applications/%s/certificate", base, jobs[i].id);
		struct curl_slist *h = curl_slist_append(NULL, jobs[i].auth);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		long status = 0;
		CURLcode rc = curl_easy_perform(c);
		if (rc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(h);
		if (status == 201) {
			atomic_fetch_add(&issued, 1);
		} else {
			if (atomic_fetch_add(&other, 1) < 5)
				fprintf(stderr, "bench_issue: %s: %s\n", url,
					rc == CURLE_OK ? "not 201" : curl_easy_strerror(rc));
		}
	}
	curl_easy_cleanup(c);
	return NULL;
}

static int load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return -1;
	}
	size_t cap = 1024;
	jobs = calloc(cap, sizeof *jobs);
	char id[64], token[128];
	while (jobs && fscanf(f, "%63s %127s", id, token) == 2) {
		if (strlen(id) >= sizeof jobs->id) {
			fprintf(stderr, "bench_issue: %s: an id is too long\n", path);
			fclose(f);
			return -1;
		}
		if (njobs == cap) {
			cap *= 2;
			struct job *more = realloc(jobs, cap * sizeof *jobs);
			if (!more) {
				free(jobs);
				jobs = NULL;
				break;
			}
			jobs = more;
		}
		/* the length was checked above: a copy, not a truncating printf
		 * (which -Werror=format-truncation refuses at -O2) */
		memcpy(jobs[njobs].id, id, strlen(id) + 1);
		snprintf(jobs[njobs].auth, sizeof jobs[njobs].auth, "Authorization: Bearer %s", token);
		njobs++;
	}
	fclose(f);
	if (!jobs) {
		fprintf(stderr, "bench_issue: out of memory\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_issue BASE-URL FILE THREADS SECONDS\n");
		return 2;
	}
	base = argv[1];
	int threads = atoi(argv[3]);
	double seconds = atof(argv[4]);
	if (threads < 1 || threads > 256 || seconds <= 0) {
		fprintf(stderr, "bench_issue: THREADS must be 1..256 and SECONDS positive\n");
		return 2;
	}
	if (load(argv[2]) != 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_t t[256];
	double start = now();
	deadline = start + seconds;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, client, NULL) != 0) {
			fprintf(stderr, "bench_issue: cannot start a client thread\n");
			return 1;
		}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	double elapsed = now() - start;
	curl_global_cleanup();
	long n = atomic_load(&issued), bad = atomic_load(&other);
	printf("issued=%ld seconds=%.2f per_second=%.1f other=%ld\n", n, elapsed, (double)n / elapsed,
	       bad);
	free(jobs);
	return bad ? 1 : 0;
}

/*
 * replay: runs a fuzz target once over every file of the directories (or
 * files) named on its command line: the seed corpus and the regression
 * inputs of crashes that were fixed, so that the ordinary suite (and its
 * ASan build) catches a parser that breaks again without fuzzing anything.
 * Exits non-zero when a directory cannot be read or holds no input; a
 * target that fails aborts.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

int main(int argc, char **argv);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0;
	uint8_t *data = cf_malloc(cap);
	size_t got;
	while ((got = fread(data + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			data = cf_realloc(data, cap);
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "replay: %s: read error\n", path);
		free(data);
		return -1;
	}
	/* an exact-size copy, so that ASan sees a read past the input */
	uint8_t *exact = cf_malloc(n ? n : 1);
	memcpy(exact, data, n);
	free(data);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (replay_file(argv[i]) != 0)
				return 1;
			count++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		if (!d) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char *path = cf_asprintf("%s/%s", argv[i], de->d_name);
			int r = replay_file(path);
			free(path);
			if (r != 0) {
				closedir(d);
				return 1;
			}
			count++;
		}
		closedir(d);
	}
	if (count == 0) {
		fprintf(stderr, "replay: no input given\n");
		return 1;
	}
	printf("replay: %zu inputs, no failure\n", count);
	return 0;
}

/*
 * fuzz_note: signed notes and checkpoints (core/note.c), as a witness or a
 * monitor sends them back. The input's first line is a verifier key, the
 * rest a signed note: the key is parsed, the note verified under it, and
 * both the note and (when verified) its text parsed as a checkpoint. A
 * parsed checkpoint prints back as the start of the text it came from.
 */
#include <strings.h>

#include "fuzz.h"
#include "note.h"

static void checkpoint(const char *text)
{
	struct cf_error err;
	char *origin = NULL;
	unsigned long long size = 0;
	unsigned char root[32];
	if (note_parse_checkpoint(text, &origin, &size, root, &err) != CF_OK) {
		FUZZ_ASSERT(origin == NULL);
		return;
	}
	char *again = note_checkpoint_text(origin, size, root);
	FUZZ_ASSERT(again && strncmp(text, again, strlen(again)) == 0);
	free(again);
	free(origin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstr(data, size);
	char *nl = strchr(in, '\n');
	const char *note = "";
	if (nl) {
		*nl = '\0';
		note = nl + 1;
	}
	const char *vkey = in;
	struct cf_error err;
	char *name = NULL;
	unsigned char pub[32];
	if (note_parse_vkey(vkey, &name, pub, &err) == CF_OK) {
		/* the key id's hex digits may be of either case, as in Go's note */
		char *back = note_vkey(name, pub);
		FUZZ_ASSERT(back && strlen(back) == strlen(vkey));
		size_t id = strlen(name) + 1;
		FUZZ_ASSERT(strncmp(back, vkey, id) == 0 && strncasecmp(back + id, vkey + id, 8) == 0 &&
			    strcmp(back + id + 8, vkey + id + 8) == 0);
		free(back);
		free(name);
	} else {
		FUZZ_ASSERT(name == NULL);
	}
	char *text = NULL;
	if (note_verify(note, vkey, &text, &err) == CF_OK) {
		FUZZ_ASSERT(text && strncmp(note, text, strlen(text)) == 0);
		checkpoint(text);
		free(text);
	} else {
		FUZZ_ASSERT(text == NULL);
	}
	checkpoint(note);
	free(in);
	return 0;
}

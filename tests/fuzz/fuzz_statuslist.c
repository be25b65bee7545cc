/*
 * fuzz_statuslist: a Bitstring Status List's encodedList (core/statuslist.c),
 * as a verifier fetches it: strict multibase base64url, one gzip member,
 * exactly 16 KiB inflated and no more (a zip bomb costs nothing). A list
 * that decodes encodes again to a list with the same bits.
 */
#include "fuzz.h"
#include "statuslist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *encoded = fuzz_cstr(data, size);
	struct cf_error err;
	unsigned char *bits = NULL;
	if (statuslist_decode(encoded, &bits, &err) != CF_OK) {
		FUZZ_ASSERT(bits == NULL);
		free(encoded);
		return 0;
	}
	unsigned *set = cf_malloc(STATUSLIST_BITS * sizeof *set);
	size_t n = 0;
	for (unsigned i = 0; i < STATUSLIST_BITS; i++)
		if (statuslist_get(bits, i))
			set[n++] = i;
	FUZZ_ASSERT(!statuslist_get(bits, STATUSLIST_BITS));
	char *again = NULL;
	FUZZ_ASSERT(statuslist_encode(set, n, &again, &err) == CF_OK);
	unsigned char *bits2 = NULL;
	FUZZ_ASSERT(statuslist_decode(again, &bits2, &err) == CF_OK);
	FUZZ_ASSERT(memcmp(bits, bits2, STATUSLIST_BYTES) == 0);
	free(bits2);
	free(again);
	free(set);
	free(bits);
	free(encoded);
	return 0;
}

/*
 * fuzz_jws: a compact JWS as a verifier or an API client hands it to
 * conform (core/jws.c): strict parsing, then the signature check against
 * the RFC 8037 test key. A parsed JWS's signing input is the text's first
 * two parts.
 */
#include <stdbool.h>

#include "codec.h"
#include "fuzz.h"
#include "jws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* RFC 8037 Appendix A.2's public key (the "x" of its JWK) */
	static const char x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
	char *compact = fuzz_cstr(data, size);
	struct cf_error err;
	struct jws j;
	cf_err e = jws_parse(compact, 8192, &j, &err);
	if (e == CF_OK) {
		FUZZ_ASSERT(json_is_object(j.header));
		size_t n = strlen(j.signing_input);
		FUZZ_ASSERT(strncmp(compact, j.signing_input, n) == 0 && compact[n] == '.');
		unsigned char *pub = NULL;
		size_t publen = 0;
		if (codec_b64url_decode(x, strlen(x), &pub, &publen, &err) == CF_OK) {
			FUZZ_ASSERT(publen == 32);
			(void)jws_verify(&j, pub);
			free(pub);
		}
	} else {
		FUZZ_ASSERT(j.header == NULL && j.payload == NULL && j.signing_input == NULL);
	}
	jws_clear(&j);
	jws_clear(&j);
	free(compact);
	return 0;
}

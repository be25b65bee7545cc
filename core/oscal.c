/*
 * oscal: OSCAL 1.1 catalog export (see oscal.h). The facts that shape it:
 * ids are tokens that start with a letter or underscore; a control that is
 * not withdrawn has a "statement" part; props outside the NIST namespace
 * carry their own "ns".
 */
#include "oscal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "jsonx.h"
#include "mem.h"

/* conform's namespace for version 5 UUIDs of OSCAL documents. */
static const unsigned char uuid_ns[16] = { 0xb5, 0xa1, 0xf6, 0xc2, 0x4e, 0x0d, 0x4c, 0x3a,
					   0x9b, 0x7e, 0x2f, 0x1d, 0x8c, 0x6a, 0x5e, 0x94 };

/* RFC 9562 section 5.5: SHA-1 of namespace || name, version 5. */
static cf_err uuid5(const char *name, char out[37], struct cf_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, uuid_ns, sizeof uuid_ns) == 1 &&
		 EVP_DigestUpdate(ctx, name, strlen(name)) == 1 &&
		 EVP_DigestFinal_ex(ctx, md, &len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cf_error_set(err, CF_ECRYPTO, NULL, "SHA-1 is not available for a UUID");
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
		 md[12], md[13], md[14], md[15]);
	return CF_OK;
}

static void token(const char *prefix, const char *s, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s", prefix);
	for (; *s && n + 1 < size; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '_';
		out[n++] = ok ? c : '_';
	}
	out[n] = '\0';
}

void oscal_control_id(const char *ref, char *out, size_t size)
{
	token("req-", ref, out, size);
}

static json_t *prop(const char *name, const char *value, bool ours)
{
	json_t *p = json_pack("{s:s,s:s}", "name", name, "value", value);
	if (ours)
		json_object_set_new(p, "ns", json_string(OSCAL_NS));
	return p;
}

static json_t *control(const json_t *req)
{
	const char *ref = jsonx_str(req, "ref");
	char id[96], part_id[112];
	oscal_control_id(ref, id, sizeof id);
	json_t *props = json_array();
	json_array_append_new(props, prop("label", ref, false));
	json_t *app = json_object_get(req, "applicability");
	char appv[48];
	if (json_is_object(app))
		snprintf(appv, sizeof appv, "mandatory-from-class-%lld",
			 (long long)json_integer_value(json_object_get(app, "mandatory_from_class")));
	else
		snprintf(appv, sizeof appv, "advisory");
	json_array_append_new(props, prop("applicability", appv, true));
	json_t *kw = json_object_get(req, "keywords");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kw, "primary"), i, v)
		json_array_append_new(props, prop("primary-keyword", json_string_value(v), true));
	json_array_foreach(json_object_get(kw, "secondary"), i, v)
		json_array_append_new(props, prop("keyword", json_string_value(v), true));
	json_array_foreach(json_object_get(req, "guidance"), i, v)
		json_array_append_new(props, prop("guidance-ref", json_string_value(v), true));
	json_array_foreach(json_object_get(req, "mappings"), i, v) {
		char *refs = NULL;
		size_t k;
		json_t *r;
		json_array_foreach(json_object_get(v, "refs"), k, r) {
			char *next = cf_asprintf("%s%s%s", refs ? refs : "", refs ? " " : "",
						 json_string_value(r));
			free(refs);
			refs = next;
		}
		char *value = cf_asprintf("%s %s %s", jsonx_str(v, "relationship"), jsonx_str(v, "to"),
					  refs);
		json_array_append_new(props, prop("mapping", value, true));
		free(value);
		free(refs);
	}
	const char *desc = jsonx_str(req, "description");
	snprintf(part_id, sizeof part_id, "%s_smt", id);
	json_t *parts = json_array();
	json_array_append_new(parts, json_pack("{s:s,s:s,s:s}", "id", part_id, "name", "statement",
					       "prose", desc ? desc : jsonx_str(req, "title")));
	const char *cond = jsonx_str(req, "condition");
	if (cond) {
		snprintf(part_id, sizeof part_id, "%s_cond", id);
		json_array_append_new(parts, json_pack("{s:s,s:s,s:s,s:s}", "id", part_id, "name",
						       "condition", "ns", OSCAL_NS, "prose", cond));
	}
	return json_pack("{s:s,s:s,s:o,s:o}", "id", id, "title", jsonx_str(req, "title"), "props",
			 props, "parts", parts);
}

cf_err oscal_catalog(const json_t *doc, const char *digest, const char *imported_at, json_t **out,
		     struct cf_error *err)
{
	char uuid[37];
	char *name = cf_asprintf("%s@%s#%s", jsonx_str(doc, "id"), jsonx_str(doc, "version"), digest);
	cf_err e = uuid5(name, uuid, err);
	free(name);
	if (e)
		return e;

	/* Groups in section order; a section's controls in requirement order. */
	json_t *groups = json_array();
	json_t *by_section = json_object();
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "sections"), i, s) {
		char gid[96];
		token("sec-", jsonx_str(s, "id"), gid, sizeof gid);
		json_t *props = json_array();
		json_array_append_new(props, prop("label", jsonx_str(s, "id"), false));
		if (jsonx_str(s, "audience"))
			json_array_append_new(props, prop("audience", jsonx_str(s, "audience"), true));
		json_t *g = json_pack("{s:s,s:s,s:o,s:[]}", "id", gid, "title", jsonx_str(s, "title"),
				      "props", props, "controls");
		json_array_append_new(groups, g);
		json_object_set(by_section, jsonx_str(s, "id"), g);
	}
	json_t *r;
	json_array_foreach(json_object_get(doc, "requirements"), i, r) {
		json_t *g = json_object_get(by_section, jsonx_str(r, "section"));
		json_array_append_new(json_object_get(g, "controls"), control(r));
	}
	/* OSCAL refuses empty arrays: a group without controls drops the key. */
	json_array_foreach(groups, i, s)
		if (json_array_size(json_object_get(s, "controls")) == 0)
			json_object_del(s, "controls");
	json_decref(by_section);

	char title[512];
	snprintf(title, sizeof title, "%s (%s %s)", jsonx_str(doc, "title"), jsonx_str(doc, "id"),
		 jsonx_str(doc, "version"));
	char dv[80];
	snprintf(dv, sizeof dv, "sha256:%s", digest);
	json_t *mprops = json_array();
	json_array_append_new(mprops, prop("scheme-id", jsonx_str(doc, "id"), true));
	json_array_append_new(mprops, prop("digest", dv, true));
	json_array_append_new(mprops, prop("publisher", jsonx_str(doc, "publisher"), true));
	json_t *metadata = json_pack("{s:s,s:s,s:s,s:s,s:o}", "title", title, "last-modified",
				     imported_at, "version", jsonx_str(doc, "version"), "oscal-version",
				     OSCAL_VERSION, "props", mprops);
	const char *coverage = jsonx_str(doc, "coverage");
	if (coverage)
		json_object_set_new(metadata, "remarks", json_string(coverage));
	*out = json_pack("{s:{s:s,s:o,s:o}}", "catalog", "uuid", uuid, "metadata", metadata, "groups",
			 groups);
	return CF_OK;
}

/*
 * scheme: the conform-scheme/1 linter and class derivation (see scheme.h and
 * docs/scheme-format.md, whose "Linter rules" this file implements; the rule
 * numbers there are cited here).
 */
#include "scheme.h"

#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonx.h"
#include "mem.h"

#define MAX_FINDINGS 500
#define TITLE_MAX_CHARS 160

static struct lint_finding *finding_add(struct lint_report *r, const char *pointer, const char *fmt,
				       va_list ap)
{
	if (r->count == MAX_FINDINGS)
		return NULL;
	if (r->count == r->alloc) {
		r->alloc = r->alloc ? r->alloc * 2 : 16;
		r->items = cf_reallocarray(r->items, r->alloc, sizeof *r->items);
	}
	struct lint_finding *f = &r->items[r->count++];
	memset(f, 0, sizeof *f);
	snprintf(f->pointer, sizeof f->pointer, "%s", pointer ? pointer : "");
	vsnprintf(f->message, sizeof f->message, fmt, ap);
	return f;
}

void lint_report_add(struct lint_report *r, bool error, const char *pointer, const char *fmt, ...)
{
	if (error)
		r->errors++;
	else
		r->warnings++;
	va_list ap;
	va_start(ap, fmt);
	struct lint_finding *f = finding_add(r, pointer, fmt, ap);
	va_end(ap);
	if (f)
		f->error = error;
}

void lint_report_note(struct lint_report *r, const char *pointer, const char *fmt, ...)
{
	r->notes++;
	va_list ap;
	va_start(ap, fmt);
	struct lint_finding *f = finding_add(r, pointer, fmt, ap);
	va_end(ap);
	if (f)
		f->note = true;
}

void lint_report_free(struct lint_report *r)
{
	CF_FREE(r->items);
	r->count = r->alloc = r->errors = r->warnings = r->notes = 0;
}

/* Patterns of rule 1. */
enum { RE_SLUG, RE_VERSION, RE_DATE, RE_IDENT, RE_KEYWORD, RE_GUIDANCE, RE_TARGET, RE_LETTER, RE_COUNT };

static const char *const patterns[RE_COUNT] = {
	[RE_SLUG] = "^[a-z][a-z0-9-]{1,62}$",
	[RE_VERSION] = "^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$",
	[RE_DATE] = "^[0-9]{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?$",
	[RE_IDENT] = "^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$",
	[RE_KEYWORD] = "^[A-Z][A-Za-z]{0,31}$",
	[RE_GUIDANCE] = "^[a-z][a-z0-9-]{1,62}:[A-Z][0-9A-Za-z.]{0,15}$",
	[RE_TARGET] = "^[a-z][a-z0-9-]{1,62}@[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$",
	[RE_LETTER] = "^[A-Z]$",
};

struct linter {
	struct lint_report *r;
	regex_t re[RE_COUNT];
	int highest_class;
	const char *self;        /* "id@version" */
	json_t *primaries;       /* vocabulary: array of {name, secondary} */
	json_t *sections;        /* object: section id -> requirement count */
	json_t *guidance;        /* object: source id -> documents object */
};

#define PTR_MAX 200

static void ptr_join(char *out, const char *base, const char *key)
{
	snprintf(out, PTR_MAX, "%s", base);
	jsonx_pointer_push(out, PTR_MAX, key);
}

static void ptr_index(char *out, const char *base, size_t i)
{
	snprintf(out, PTR_MAX, "%s", base);
	jsonx_pointer_push_index(out, PTR_MAX, i);
}

#define ERR(l, p, ...) lint_report_add((l)->r, true, (p), __VA_ARGS__)
#define WARN(l, p, ...) lint_report_add((l)->r, false, (p), __VA_ARGS__)

static bool matches(struct linter *l, int re, const char *s)
{
	return regexec(&l->re[re], s, 0, NULL, 0) == 0;
}

/* Rule 2: only the allowed keys; and the required ones are present. */
static void check_keys(struct linter *l, const json_t *obj, const char *ptr,
		       const char *const *allowed, const char *const *required)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok) {
			char p[PTR_MAX];
			ptr_join(p, ptr, key);
			ERR(l, p, "unknown key '%s'", key);
		}
	}
	for (const char *const *q = required; *q; q++)
		if (!json_object_get(obj, *q)) {
			char p[PTR_MAX];
			ptr_join(p, ptr, *q);
			ERR(l, p, "'%s' is required", *q);
		}
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The string member key of obj (at ptr), its pointer in p; NULL when there
 * is none, or after saying that it is not a string. */
static const char *string_member(struct linter *l, const json_t *obj, const char *ptr,
				 const char *key, char p[PTR_MAX])
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return NULL;
	ptr_join(p, ptr, key);
	if (!json_is_string(v)) {
		ERR(l, p, "'%s' must be a string", key);
		return NULL;
	}
	return json_string_value(v);
}

/* Rule 11: a text member, not blank, within max characters (0: no limit). */
static const char *text_member(struct linter *l, const json_t *obj, const char *ptr, const char *key,
			       size_t max)
{
	char p[PTR_MAX];
	const char *s = string_member(l, obj, ptr, key, p);
	if (!s)
		return NULL;
	if (strspn(s, " \t\r\n") == strlen(s)) {
		ERR(l, p, "'%s' must not be empty or blank", key);
		return NULL;
	}
	if (max && utf8_chars(s) > max)
		ERR(l, p, "'%s' has %zu characters; at most %zu are allowed", key, utf8_chars(s), max);
	return s;
}

static const char *pattern_member(struct linter *l, const json_t *obj, const char *ptr,
				  const char *key, int re, const char *what)
{
	char p[PTR_MAX];
	const char *s = string_member(l, obj, ptr, key, p);
	if (!s)
		return NULL;
	if (!matches(l, re, s)) {
		ERR(l, p, "'%.60s' is not a valid %s (%s)", s, what, patterns[re]);
		return NULL;
	}
	return s;
}

static const json_t *array_member(struct linter *l, const json_t *obj, const char *ptr,
				  const char *key, bool nonempty)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return NULL;
	char p[PTR_MAX];
	ptr_join(p, ptr, key);
	if (!json_is_array(v)) {
		ERR(l, p, "'%s' must be an array", key);
		return NULL;
	}
	if (nonempty && json_array_size(v) == 0) {
		ERR(l, p, "'%s' must have at least one entry", key);
		return NULL;
	}
	return v;
}

static bool is_object(struct linter *l, const json_t *v, const char *ptr, const char *what)
{
	if (json_is_object(v))
		return true;
	ERR(l, ptr, "%s must be an object", what);
	return false;
}

/* Element i of the array at base, v: its pointer in p; true when it is an
 * object, whose keys are then checked (allowed, required), else false after
 * saying so. */
static bool array_element(struct linter *l, const json_t *v, const char *base, size_t i,
			  const char *what, const char *const *allowed, const char *const *required,
			  char p[PTR_MAX])
{
	ptr_index(p, base, i);
	if (!is_object(l, v, p, what))
		return false;
	check_keys(l, v, p, allowed, required);
	return true;
}

/* Is id, the member "id" of the object at p, not yet in seen? An error
 * naming what was declared twice when it is. */
static bool first_declaration(struct linter *l, const json_t *seen, const char *p, const char *id,
			      const char *what)
{
	if (!json_object_get(seen, id))
		return true;
	char pi[PTR_MAX];
	ptr_join(pi, p, "id");
	ERR(l, pi, "%s '%s' is declared twice", what, id);
	return false;
}

static void lint_source(struct linter *l, const json_t *doc)
{
	const json_t *src = json_object_get(doc, "source");
	if (!src || !is_object(l, src, "/source", "'source'"))
		return;
	static const char *const allowed[] = { "document", "date", "url", NULL };
	static const char *const required[] = { "document", "date", NULL };
	check_keys(l, src, "/source", allowed, required);
	text_member(l, src, "/source", "document", 0);
	text_member(l, src, "/source", "url", 0);
	json_t *date = json_object_get(src, "date");
	if (date && (!json_is_string(date) || !matches(l, RE_DATE, json_string_value(date))))
		ERR(l, "/source/date", "the date must be YYYY-MM or YYYY-MM-DD");
}

/* Rule 3. Returns the highest class. */
static int lint_classes(struct linter *l, const json_t *doc)
{
	const json_t *classes = array_member(l, doc, "", "classes", false);
	if (!classes)
		return 0;
	static const char *const keys[] = { "class", "confidentiality", "integrity", "availability",
					    "description", NULL };
	static const char *const levels[] = { "confidentiality", "integrity", "availability" };
	size_t i;
	json_t *c;
	int highest = 0;
	json_array_foreach(classes, i, c) {
		char p[PTR_MAX];
		if (!array_element(l, c, "/classes", i, "a class", keys, keys, p))
			continue;
		json_t *num = json_object_get(c, "class");
		char pn[PTR_MAX];
		ptr_join(pn, p, "class");
		if (num && (!json_is_integer(num) || json_integer_value(num) != (json_int_t)i))
			ERR(l, pn, "classes must be numbered 0, 1, 2, ... in order: expected %zu here", i);
		else if (num && i > 9)
			ERR(l, pn, "at most 10 classes (0 to 9) are allowed");
		for (size_t k = 0; k < 3; k++) {
			json_t *lv = json_object_get(c, levels[k]);
			enum scheme_level ignored;
			char pl[PTR_MAX];
			ptr_join(pl, p, levels[k]);
			if (lv && (!json_is_string(lv) ||
				   scheme_level_parse(json_string_value(lv), &ignored, NULL)))
				ERR(l, pl, "'%s' must be \"basic\", \"medium\" or \"high\"", levels[k]);
		}
		text_member(l, c, p, "description", 0);
		highest = (int)i;
	}
	return highest;
}

/* Rule 4. */
static void lint_keywords(struct linter *l, const json_t *doc)
{
	const json_t *kw = json_object_get(doc, "keywords");
	if (!kw || !is_object(l, kw, "/keywords", "'keywords'"))
		return;
	static const char *const keys[] = { "primary", NULL };
	check_keys(l, kw, "/keywords", keys, keys);
	const json_t *prim = array_member(l, kw, "/keywords", "primary", true);
	if (!prim)
		return;
	json_t *seen = json_object();
	size_t i;
	json_t *p;
	json_array_foreach(prim, i, p) {
		static const char *const pkeys[] = { "name", "secondary", NULL };
		char pp[PTR_MAX];
		if (!array_element(l, p, "/keywords/primary", i, "a primary keyword", pkeys, pkeys, pp))
			continue;
		const char *name = pattern_member(l, p, pp, "name", RE_KEYWORD, "keyword name");
		if (name) {
			char pn[PTR_MAX];
			ptr_join(pn, pp, "name");
			if (json_object_get(seen, name))
				ERR(l, pn, "keyword '%s' is declared twice", name);
			json_object_set_new(seen, name, json_true());
		}
		const json_t *sec = array_member(l, p, pp, "secondary", true);
		size_t k;
		json_t *s;
		json_array_foreach(sec, k, s) {
			char ps[PTR_MAX], tmp[PTR_MAX];
			ptr_join(tmp, pp, "secondary");
			ptr_index(ps, tmp, k);
			if (!json_is_string(s) || !matches(l, RE_KEYWORD, json_string_value(s))) {
				ERR(l, ps, "a keyword name must match %s", patterns[RE_KEYWORD]);
				continue;
			}
			if (json_object_get(seen, json_string_value(s)))
				ERR(l, ps, "keyword '%s' is declared twice (a secondary keyword belongs "
					   "to exactly one primary)",
				    json_string_value(s));
			json_object_set_new(seen, json_string_value(s), json_true());
		}
		if (name && sec)
			json_array_append(l->primaries, p);
	}
	json_decref(seen);
}

/* Rule 5. */
static void lint_guidance_sources(struct linter *l, const json_t *doc)
{
	const json_t *gs = array_member(l, doc, "", "guidance_sources", false);
	size_t i;
	json_t *g;
	json_array_foreach(gs, i, g) {
		static const char *const keys[] = { "id", "title", "documents", NULL };
		char p[PTR_MAX];
		if (!array_element(l, g, "/guidance_sources", i, "a guidance source", keys, keys, p))
			continue;
		const char *id = pattern_member(l, g, p, "id", RE_SLUG, "guidance source id");
		text_member(l, g, p, "title", 0);
		json_t *docs = json_object_get(g, "documents");
		char pd[PTR_MAX];
		ptr_join(pd, p, "documents");
		if (docs && !is_object(l, docs, pd, "'documents'"))
			docs = NULL;
		const char *letter;
		json_t *title;
		json_object_foreach(docs, letter, title) {
			char pl[PTR_MAX];
			ptr_join(pl, pd, letter);
			if (!matches(l, RE_LETTER, letter))
				ERR(l, pl, "a document key must be one upper-case letter");
			if (!json_is_string(title) || !*json_string_value(title))
				ERR(l, pl, "a document title must be a non-empty string");
		}
		if (id && first_declaration(l, l->guidance, p, id, "guidance source") && docs)
			json_object_set(l->guidance, id, docs);
	}
}

/* Rule 6. */
static void lint_sections(struct linter *l, const json_t *doc)
{
	const json_t *secs = array_member(l, doc, "", "sections", true);
	size_t i;
	json_t *s;
	json_array_foreach(secs, i, s) {
		static const char *const keys[] = { "id", "title", "audience", NULL };
		static const char *const req[] = { "id", "title", NULL };
		char p[PTR_MAX];
		if (!array_element(l, s, "/sections", i, "a section", keys, req, p))
			continue;
		const char *id = pattern_member(l, s, p, "id", RE_IDENT, "section id");
		text_member(l, s, p, "title", TITLE_MAX_CHARS);
		text_member(l, s, p, "audience", 0);
		if (id && first_declaration(l, l->sections, p, id, "section"))
			json_object_set_new(l->sections, id, json_integer(0));
	}
}

static const json_t *find_primary(struct linter *l, const char *name)
{
	size_t i;
	json_t *p;
	json_array_foreach(l->primaries, i, p)
		if (strcasecmp(jsonx_str(p, "name"), name) == 0)
			return p;
	return NULL;
}

/*
 * Normalises the case of the keyword at list[k] to name (warning when it
 * differed): sources are inconsistent ("process", "system").
 */
static void normalise_case(struct linter *l, json_t *list, size_t k, const char *name,
			   const char *ptr)
{
	const char *given = json_string_value(json_array_get(list, k));
	if (strcmp(given, name) == 0)
		return;
	WARN(l, ptr, "keyword '%s' normalised to '%s'", given, name);
	json_array_set_new(list, k, json_string(name));
}

/* Rule 9, warning 1. */
static void lint_requirement_keywords(struct linter *l, json_t *req, const char *p)
{
	json_t *kw = json_object_get(req, "keywords");
	char pk[PTR_MAX];
	ptr_join(pk, p, "keywords");
	if (!kw || !is_object(l, kw, pk, "'keywords'"))
		return;
	static const char *const keys[] = { "primary", "secondary", NULL };
	check_keys(l, kw, pk, keys, keys);
	json_t *prim = (json_t *)(uintptr_t)array_member(l, kw, pk, "primary", true);
	json_t *sec = (json_t *)(uintptr_t)array_member(l, kw, pk, "secondary", true);
	if (!prim || !sec)
		return;
	const json_t *chosen[8];
	size_t nchosen = 0;
	size_t i;
	json_t *v;
	char pp[PTR_MAX], tmp[PTR_MAX];
	ptr_join(tmp, pk, "primary");
	json_array_foreach(prim, i, v) {
		ptr_index(pp, tmp, i);
		const json_t *def = json_is_string(v) ? find_primary(l, json_string_value(v)) : NULL;
		if (!def) {
			ERR(l, pp, "'%s' is not a primary keyword of this scheme",
			    json_is_string(v) ? json_string_value(v) : "(not a string)");
			continue;
		}
		for (size_t c = 0; c < nchosen; c++)
			if (chosen[c] == def)
				ERR(l, pp, "keyword '%s' is listed twice", jsonx_str(def, "name"));
		if (nchosen < 8)
			chosen[nchosen++] = def;
		normalise_case(l, prim, i, jsonx_str(def, "name"), pp);
	}
	bool used[8] = { false };
	ptr_join(tmp, pk, "secondary");
	json_array_foreach(sec, i, v) {
		ptr_index(pp, tmp, i);
		const char *name = json_is_string(v) ? json_string_value(v) : NULL;
		bool found = false;
		for (size_t c = 0; name && c < nchosen && !found; c++) {
			size_t k;
			json_t *s;
			json_array_foreach(json_object_get(chosen[c], "secondary"), k, s) {
				if (strcasecmp(json_string_value(s), name) == 0) {
					found = true;
					used[c] = true;
					normalise_case(l, sec, i, json_string_value(s), pp);
					break;
				}
			}
		}
		if (!found)
			ERR(l, pp, "'%s' is not a secondary keyword of the primary keywords listed here",
			    name ? name : "(not a string)");
	}
	for (size_t c = 0; c < nchosen; c++)
		if (!used[c])
			WARN(l, pk, "primary keyword '%s' has none of its secondary keywords here, so "
				    "nobody is clearly allocated for it",
			     jsonx_str(chosen[c], "name"));
}

/* Rule 10. */
static void lint_applicability(struct linter *l, const json_t *req, const char *p)
{
	json_t *a = json_object_get(req, "applicability");
	if (!a)
		return;
	char pa[PTR_MAX];
	ptr_join(pa, p, "applicability");
	if (json_is_string(a)) {
		if (strcmp(json_string_value(a), "advisory") != 0)
			ERR(l, pa, "applicability must be \"advisory\" or {\"mandatory_from_class\": N}");
		return;
	}
	if (!json_is_object(a)) {
		ERR(l, pa, "applicability must be \"advisory\" or {\"mandatory_from_class\": N}");
		return;
	}
	static const char *const keys[] = { "mandatory_from_class", NULL };
	check_keys(l, a, pa, keys, keys);
	json_t *n = json_object_get(a, "mandatory_from_class");
	char pn[PTR_MAX];
	ptr_join(pn, pa, "mandatory_from_class");
	if (n && !json_is_integer(n))
		ERR(l, pn, "mandatory_from_class must be a whole number");
	else if (n && (json_integer_value(n) < 0 || json_integer_value(n) > l->highest_class))
		ERR(l, pn, "mandatory_from_class %lld is outside this scheme's classes (0 to %d)",
		    (long long)json_integer_value(n), l->highest_class);
}

/* Rule 12. */
static void lint_guidance(struct linter *l, const json_t *req, const char *p)
{
	const json_t *g = array_member(l, req, p, "guidance", false);
	char pg[PTR_MAX];
	ptr_join(pg, p, "guidance");
	size_t i;
	json_t *v;
	json_array_foreach(g, i, v) {
		char pi[PTR_MAX];
		ptr_index(pi, pg, i);
		const char *s = json_string_value(v);
		if (!s || !matches(l, RE_GUIDANCE, s)) {
			ERR(l, pi, "a guidance entry must look like 'source-id:E9'");
			continue;
		}
		const char *colon = strchr(s, ':');
		char src[64];
		snprintf(src, sizeof src, "%.*s", (int)(colon - s), s);
		json_t *docs = json_object_get(l->guidance, src);
		char letter[2] = { colon[1], '\0' };
		if (!docs)
			ERR(l, pi, "guidance source '%s' is not declared in guidance_sources", src);
		else if (!json_object_get(docs, letter))
			ERR(l, pi, "guidance source '%s' has no document '%s'", src, letter);
	}
}

/* Rule 13. */
static void lint_mappings(struct linter *l, const json_t *req, const char *p)
{
	const json_t *m = array_member(l, req, p, "mappings", false);
	char pm[PTR_MAX];
	ptr_join(pm, p, "mappings");
	json_t *targets = json_object();
	size_t i;
	json_t *v;
	json_array_foreach(m, i, v) {
		static const char *const keys[] = { "to", "refs", "relationship", "note", NULL };
		static const char *const req_keys[] = { "to", "refs", "relationship", NULL };
		char pi[PTR_MAX];
		if (!array_element(l, v, pm, i, "a mapping", keys, req_keys, pi))
			continue;
		const char *to = pattern_member(l, v, pi, "to", RE_TARGET, "target (id@version)");
		char pt[PTR_MAX];
		ptr_join(pt, pi, "to");
		if (to && strcmp(to, l->self) == 0)
			ERR(l, pt, "a requirement cannot map to its own scheme version");
		else if (to && json_object_get(targets, to))
			ERR(l, pt, "a second mapping to %s: put all its refs in one mapping", to);
		else if (to)
			json_object_set_new(targets, to, json_true());
		const json_t *refs = array_member(l, v, pi, "refs", true);
		char pr[PTR_MAX];
		ptr_join(pr, pi, "refs");
		json_t *seen = json_object();
		size_t k;
		json_t *r;
		json_array_foreach(refs, k, r) {
			char prk[PTR_MAX];
			ptr_index(prk, pr, k);
			if (!json_is_string(r) || !matches(l, RE_IDENT, json_string_value(r))) {
				ERR(l, prk, "a ref must match %s", patterns[RE_IDENT]);
				continue;
			}
			if (json_object_get(seen, json_string_value(r)))
				ERR(l, prk, "ref '%s' is listed twice", json_string_value(r));
			json_object_set_new(seen, json_string_value(r), json_true());
		}
		json_decref(seen);
		const char *rel = jsonx_str(v, "relationship");
		char prel[PTR_MAX];
		ptr_join(prel, pi, "relationship");
		if (json_object_get(v, "relationship") &&
		    !(rel && (strcmp(rel, "equivalent-to") == 0 || strcmp(rel, "subset-of") == 0 ||
			      strcmp(rel, "superset-of") == 0 || strcmp(rel, "intersects-with") == 0)))
			ERR(l, prel, "relationship must be equivalent-to, subset-of, superset-of or "
				     "intersects-with");
		text_member(l, v, pi, "note", 0);
	}
	json_decref(targets);
}

/* Rules 7, 8, 11; warning 2. */
static void lint_requirements(struct linter *l, json_t *doc)
{
	json_t *reqs = (json_t *)(uintptr_t)array_member(l, doc, "", "requirements", true);
	json_t *refs = json_object();
	size_t i;
	json_t *req;
	json_array_foreach(reqs, i, req) {
		static const char *const keys[] = { "ref", "section", "title", "description", "keywords",
						    "applicability", "condition", "guidance",
						    "mappings", NULL };
		static const char *const req_keys[] = { "ref", "section", "title", "keywords",
							"applicability", NULL };
		char p[PTR_MAX];
		if (!array_element(l, req, "/requirements", i, "a requirement", keys, req_keys, p))
			continue;
		const char *ref = pattern_member(l, req, p, "ref", RE_IDENT, "ref");
		if (ref) {
			char pr[PTR_MAX];
			ptr_join(pr, p, "ref");
			if (json_object_get(refs, ref))
				ERR(l, pr, "ref '%s' is used twice", ref);
			json_object_set_new(refs, ref, json_true());
		}
		const char *section = jsonx_str(req, "section");
		char ps[PTR_MAX];
		ptr_join(ps, p, "section");
		json_t *count = section ? json_object_get(l->sections, section) : NULL;
		if (json_object_get(req, "section") && !count)
			ERR(l, ps, "section '%s' is not declared in sections",
			    section ? section : "(not a string)");
		else if (count)
			json_integer_set(count, json_integer_value(count) + 1);
		text_member(l, req, p, "title", TITLE_MAX_CHARS);
		text_member(l, req, p, "description", 0);
		text_member(l, req, p, "condition", 0);
		lint_requirement_keywords(l, req, p);
		lint_applicability(l, req, p);
		lint_guidance(l, req, p);
		lint_mappings(l, req, p);
	}
	json_decref(refs);
	const char *id;
	json_t *count;
	json_object_foreach(l->sections, id, count)
		if (json_integer_value(count) == 0)
			WARN(l, "/sections", "section '%s' has no requirements", id);
}

static void lint_document(struct linter *l, json_t *doc, const char *filename)
{
	static const char *const keys[] = { "$schema", "format", "id", "version", "title", "publisher",
					    "source", "coverage", "notes",
					    "certificate_validity_days", "classes", "keywords",
					    "guidance_sources", "sections", "requirements", NULL };
	static const char *const req[] = { "format", "id", "version", "title", "publisher",
					   "source", "certificate_validity_days", "keywords",
					   "sections", "requirements", NULL };
	check_keys(l, doc, "", keys, req);
	json_t *fmt = json_object_get(doc, "format");
	if (fmt && !(json_is_string(fmt) && strcmp(json_string_value(fmt), SCHEME_FORMAT) == 0))
		ERR(l, "/format", "format must be \"%s\"", SCHEME_FORMAT);
	const char *id = pattern_member(l, doc, "", "id", RE_SLUG, "scheme id");
	const char *version = pattern_member(l, doc, "", "version", RE_VERSION, "version");
	text_member(l, doc, "", "title", 0);
	text_member(l, doc, "", "publisher", 0);
	text_member(l, doc, "", "notes", 0);
	if (!text_member(l, doc, "", "coverage", 0) && !json_object_get(doc, "coverage"))
		WARN(l, "/coverage", "'coverage' is missing: say what of the source this file covers");
	json_t *days = json_object_get(doc, "certificate_validity_days");
	if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
		     json_integer_value(days) > 3650))
		ERR(l, "/certificate_validity_days", "must be a whole number of days from 1 to 3650");
	char self[128];
	snprintf(self, sizeof self, "%s@%s", id ? id : "", version ? version : "");
	l->self = self;
	lint_source(l, doc);
	l->highest_class = lint_classes(l, doc);
	lint_keywords(l, doc);
	lint_guidance_sources(l, doc);
	lint_sections(l, doc);
	lint_requirements(l, doc);
	l->self = NULL;
	if (filename && id && version) {
		const char *base = strrchr(filename, '/');
		base = base ? base + 1 : filename;
		char want[160];
		snprintf(want, sizeof want, "%s-%s.json", id, version);
		if (strcmp(base, want) != 0)
			WARN(l, "", "the file is named %s; %s is the convention", base, want);
	}
}

cf_err scheme_lint(const char *text, size_t len, const char *filename, json_t **doc,
		   struct lint_report *report, struct cf_error *err)
{
	if (doc)
		*doc = NULL;
	if (len > SCHEME_MAX_BYTES) {
		lint_report_add(report, true, "", "the file is larger than %u bytes", SCHEME_MAX_BYTES);
		return cf_error_set(err, CF_ETOOLARGE, "", "the scheme file is larger than %u bytes",
				    SCHEME_MAX_BYTES);
	}
	json_error_t jerr;
	json_t *d = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!d) {
		lint_report_add(report, true, "", "not valid JSON: %s (line %d, column %d)", jerr.text,
				jerr.line, jerr.column);
		return cf_error_set(err, CF_EINVAL, "", "not valid JSON: %s (line %d, column %d)",
				    jerr.text, jerr.line, jerr.column);
	}
	if (!json_is_object(d)) {
		json_decref(d);
		lint_report_add(report, true, "", "a scheme file is a JSON object");
		return cf_error_set(err, CF_EINVAL, "", "a scheme file is a JSON object");
	}
	struct linter l = { .r = report };
	for (int i = 0; i < RE_COUNT; i++)
		if (regcomp(&l.re[i], patterns[i], REG_EXTENDED | REG_NOSUB))
			abort(); /* a pattern of ours that does not compile is a bug */
	l.primaries = json_array();
	l.sections = json_object();
	l.guidance = json_object();
	size_t errors_before = report->errors;

	lint_document(&l, d, filename);

	for (int i = 0; i < RE_COUNT; i++)
		regfree(&l.re[i]);
	json_decref(l.primaries);
	json_decref(l.sections);
	json_decref(l.guidance);
	if (report->errors > errors_before) {
		json_decref(d);
		const struct lint_finding *first = NULL;
		for (size_t i = 0; i < report->count && !first; i++)
			if (report->items[i].error)
				first = &report->items[i];
		return cf_error_set(err, CF_EINVAL, first ? first->pointer : "", "%s",
				    first ? first->message : "the scheme has errors");
	}
	json_object_del(d, "$schema");
	if (doc)
		*doc = d;
	else
		json_decref(d);
	return CF_OK;
}

bool scheme_text_is_json_schema(const char *text, size_t len)
{
	json_t *d = json_loadb(text, len, 0, NULL);
	const char *s = jsonx_str(d, "$schema");
	bool yes = json_is_object(d) && s && strstr(s, "json-schema.org/") &&
		   !json_object_get(d, "format");
	json_decref(d);
	return yes;
}

static const char *const level_names[] = { "basic", "medium", "high" };

cf_err scheme_level_parse(const char *s, enum scheme_level *out, struct cf_error *err)
{
	for (int i = 0; i < 3; i++)
		if (s && strcmp(s, level_names[i]) == 0) {
			*out = (enum scheme_level)i;
			return CF_OK;
		}
	return cf_error_set(err, CF_EINVAL, NULL, "'%.32s' is not a level (basic, medium or high)",
			    s ? s : "");
}

const char *scheme_level_name(enum scheme_level level)
{
	return level_names[level];
}

cf_err scheme_derive_class(const struct scheme_class *classes, size_t n,
			   enum scheme_level confidentiality, enum scheme_level integrity,
			   enum scheme_level availability, int *out, struct cf_error *err)
{
	if (n == 0) {
		*out = 0;
		return CF_OK;
	}
	for (size_t i = 0; i < n; i++) {
		const struct scheme_class *c = &classes[i];
		if (c->confidentiality >= confidentiality && c->integrity >= integrity &&
		    c->availability >= availability) {
			*out = c->number;
			return CF_OK;
		}
	}
	return cf_error_set(err, CF_EUNPROCESSABLE, NULL,
			    "no class of this scheme reaches confidentiality %s, integrity %s and "
			    "availability %s",
			    scheme_level_name(confidentiality), scheme_level_name(integrity),
			    scheme_level_name(availability));
}

struct scheme_class *scheme_classes(const json_t *doc, size_t *n)
{
	const json_t *classes = json_object_get(doc, "classes");
	*n = json_array_size(classes);
	struct scheme_class *out = cf_calloc(*n ? *n : 1, sizeof *out);
	for (size_t i = 0; i < *n; i++) {
		const json_t *c = json_array_get(classes, i);
		out[i].number = (int)json_integer_value(json_object_get(c, "class"));
		/* a linted document has valid levels */
		if (scheme_level_parse(jsonx_str(c, "confidentiality"), &out[i].confidentiality, NULL) ||
		    scheme_level_parse(jsonx_str(c, "integrity"), &out[i].integrity, NULL) ||
		    scheme_level_parse(jsonx_str(c, "availability"), &out[i].availability, NULL))
			abort();
	}
	return out;
}

int scheme_highest_class(const json_t *doc)
{
	size_t n = json_array_size(json_object_get(doc, "classes"));
	return n ? (int)n - 1 : 0;
}

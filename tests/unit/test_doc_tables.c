/*
 * The two tables an operator reads about, held to the docs: every key of
 * core/config.c's settings table against docs/operations.md "Settings" (flag,
 * variable, default, which program), and every command of conformctl's
 * table (cli_groups) against docs/operations.md "Commands", against every
 * `conformctl ...` the docs and README.md show, and against what
 * conformctl --help and each command's --help print. A setting or a command
 * added, renamed or dropped on one side only fails here, naming it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "mem.h"
#include "proc.h"
#include "testsrv.h"
#include "tsupport.h"

/* One row of a Markdown table: its cells, trimmed (pointers into a copy). */
struct row {
	char *line; /* owned */
	char *cell[8];
	int ncells;
	int lineno;
};

struct table {
	struct row rows[128];
	int n;
};

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/*
 * The table of the "## heading" section of a Markdown file: every line that
 * starts with '|', but for the header and its "| --- |" rule. Fails when the
 * section or its table is missing.
 */
static void doc_table(const char *relative, const char *heading, struct table *t)
{
	char *path = tsupport_source_path(relative);
	char *text = tsupport_read_file(path, NULL);
	free(path);
	t->n = 0;
	bool in = false, header = true;
	int lineno = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		lineno++;
		if (strncmp(line, "## ", 3) == 0) {
			in = strcmp(line + 3, heading) == 0;
			continue;
		}
		if (!in || line[0] != '|')
			continue;
		if (header || strncmp(line, "| ---", 5) == 0) {
			header = false;
			continue;
		}
		ck_assert_msg(t->n < (int)(sizeof t->rows / sizeof t->rows[0]), "%s: too many rows",
			      heading);
		struct row *r = &t->rows[t->n++];
		r->line = cf_strdup(line);
		r->lineno = lineno;
		r->ncells = 0;
		char *p = r->line + 1;
		for (char *bar; (bar = strchr(p, '|')) && r->ncells < 8; p = bar + 1) {
			*bar = '\0';
			r->cell[r->ncells++] = trim(p);
		}
	}
	free(text);
	ck_assert_msg(t->n > 0, "%s has no \"## %s\" table", relative, heading);
}

static void table_free(struct table *t)
{
	for (int i = 0; i < t->n; i++)
		free(t->rows[i].line);
}

/* "`x`" -> "x" in buf; NULL when the cell is not one code span. */
static const char *code_cell(const char *cell, char *buf, size_t size)
{
	size_t n = strlen(cell);
	if (n < 2 || cell[0] != '`' || cell[n - 1] != '`' || memchr(cell + 1, '`', n - 2))
		return NULL;
	snprintf(buf, size, "%.*s", (int)(n - 2), cell + 1);
	return buf;
}

/* The row whose first cell is `key`, or NULL. */
static const struct row *find_row(const struct table *t, const char *key)
{
	char buf[80];
	for (int i = 0; i < t->n; i++) {
		const char *k = code_cell(t->rows[i].cell[0], buf, sizeof buf);
		if (k && strcmp(k, key) == 0)
			return &t->rows[i];
	}
	return NULL;
}

/* The settings row whose flag is --name, or NULL. */
static const struct row *setting_row(const struct table *t, const char *name)
{
	char flag[80];
	snprintf(flag, sizeof flag, "--%s", name);
	return find_row(t, flag);
}

/* The first cell of r, which must be one code span starting with prefix. */
static const char *row_key(const struct row *r, const char *prefix, char *buf, size_t size)
{
	const char *k = code_cell(r->cell[0], buf, size);
	ck_assert_msg(k && strncmp(k, prefix, strlen(prefix)) == 0,
		      "operations.md:%d: the first cell is not `%s...`: %s", r->lineno, prefix,
		      r->cell[0]);
	return k;
}

START_TEST(every_setting_is_documented)
{
	struct table t;
	doc_table("docs/operations.md", "Settings", &t);
	struct config_key_info k;
	for (size_t i = 0; config_key_at(i, &k); i++) {
		const struct row *r = setting_row(&t, k.name);
		ck_assert_msg(r != NULL, "--%s is a setting that docs/operations.md \"Settings\" lacks",
			      k.name);
		ck_assert_msg(r->ncells == 4, "operations.md:%d: %d cells, not 4 (flag, variable, "
			      "default, meaning)", r->lineno, r->ncells);
		char buf[80];
		const char *env = code_cell(r->cell[1], buf, sizeof buf);
		ck_assert_msg(env && strcmp(env, k.env) == 0,
			      "operations.md:%d: --%s is read from %s, the docs say %s", r->lineno,
			      k.name, k.env, r->cell[1]);
		/* A default is the table's text, in a code span at the start of
		 * the cell ("`0` (eight per CPU ...)"); a setting with none must
		 * not be documented with one. */
		char want[80];
		snprintf(want, sizeof want, "`%s`", k.def);
		if (k.def[0])
			ck_assert_msg(strncmp(r->cell[2], want, strlen(want)) == 0,
				      "operations.md:%d: --%s defaults to %s, the docs say %s", r->lineno,
				      k.name, want, r->cell[2]);
		else
			ck_assert_msg(r->cell[2][0] != '`',
				      "operations.md:%d: --%s has no default, the docs give %s", r->lineno,
				      k.name, r->cell[2]);
	}
	table_free(&t);
}
END_TEST


/*
 * "conformd only", "conformctl only", "conform-signer only" at the start of a
 * setting's meaning must be what the table says: a setting the docs confine
 * to one program that another reads too (or not at all) is a wrong doc.
 */
START_TEST(one_program_settings_say_which)
{
	static const struct {
		const char *words;
		unsigned program;
	} only[] = { { "conformd only", CONFIG_SERVER },
		     { "conformctl only", CONFIG_CLI },
		     { "conform-signer only", CONFIG_SIGNER } };
	struct table t;
	doc_table("docs/operations.md", "Settings", &t);
	struct config_key_info k;
	for (size_t i = 0; config_key_at(i, &k); i++) {
		const struct row *r = setting_row(&t, k.name);
		ck_assert_msg(r != NULL, "--%s is not documented", k.name);
		for (size_t o = 0; o < sizeof only / sizeof only[0]; o++)
			if (strncmp(r->cell[3], only[o].words, strlen(only[o].words)) == 0)
				ck_assert_msg(k.programs == only[o].program,
					      "operations.md:%d: --%s says \"%s\", but more programs "
					      "(or another) read it", r->lineno, k.name, only[o].words);
	}
	table_free(&t);
}
END_TEST

/* "db migrate" or "demo": a command's words after "conformctl". */
static void command_words(const struct cli_command *c, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s", c->group, c->name[0] ? " " : "", c->name);
}

START_TEST(every_command_is_documented)
{
	struct table t;
	doc_table("docs/operations.md", "Commands", &t);
	int seen = 0;
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++, seen++) {
			char words[64], want[80], buf[80];
			command_words(c, words, sizeof words);
			snprintf(want, sizeof want, "conformctl %s", words);
			const struct row *r = find_row(&t, want);
			ck_assert_msg(r != NULL, "%s is a command that docs/operations.md \"Commands\" "
				      "lacks", want);
			ck_assert_msg(r->ncells == 4, "operations.md:%d: %d cells, not 4", r->lineno,
				      r->ncells);
			const char *args = c->args[0] ? code_cell(r->cell[1], buf, sizeof buf) : r->cell[1];
			ck_assert_msg(args && strcmp(args, c->args) == 0,
				      "operations.md:%d: %s takes \"%s\", the docs say \"%s\"", r->lineno,
				      want, c->args, r->cell[1]);
			ck_assert_msg(strcmp(r->cell[2], c->json ? "yes" : "no") == 0,
				      "operations.md:%d: %s %s --json, the docs say \"%s\"", r->lineno,
				      want, c->json ? "takes" : "does not take", r->cell[2]);
			/* and in the order conformctl --help lists them */
			ck_assert_msg(seen < t.n && r == &t.rows[seen],
				      "operations.md:%d: %s is not the table's row %d, where conformctl "
				      "--help lists it", r->lineno, want, seen + 1);
		}
	ck_assert_int_eq(t.n, seen);
	table_free(&t);
}
END_TEST

/* Is flag ("--data-dir") a setting of core/config.c? */
static bool is_setting(const char *flag)
{
	struct config_key_info k;
	for (size_t j = 0; config_key_at(j, &k); j++)
		if (strcmp(k.name, flag + 2) == 0)
			return true;
	return false;
}

/* Is cmd ("conformctl db migrate") a command of conformctl's table? */
static bool is_command(const char *cmd)
{
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++) {
			char words[64];
			command_words(c, words, sizeof words);
			if (strcmp(words, cmd + strlen("conformctl ")) == 0)
				return true;
		}
	return false;
}

/* The docs' tables name nothing their program does not have. */
static const struct {
	const char *section, *prefix;
	bool (*exists)(const char *key);
	const char *what;
} doc_keys[] = {
	{ "Settings", "--", is_setting, "setting of core/config.c" },
	{ "Commands", "conformctl ", is_command, "command of conformctl" },
};

START_TEST(the_docs_name_nothing_else)
{
	struct table t;
	doc_table("docs/operations.md", doc_keys[_i].section, &t);
	for (int i = 0; i < t.n; i++) {
		char buf[80];
		const char *key = row_key(&t.rows[i], doc_keys[_i].prefix, buf, sizeof buf);
		ck_assert_msg(doc_keys[_i].exists(key), "operations.md:%d: %s is no %s", t.rows[i].lineno,
			      key, doc_keys[_i].what);
	}
	table_free(&t);
}
END_TEST

/* Does conformctl take the flag as "--flag VALUE"? (its settings and
 * --token-file, --config; --json and --help take none) */
static bool flag_takes_value(const char *flag)
{
	if (strchr(flag, '=') || strcmp(flag, "--json") == 0 || strcmp(flag, "--help") == 0)
		return false;
	if (strcmp(flag, "--token-file") == 0 || strcmp(flag, "--config") == 0)
		return true;
	struct config_key_info k;
	for (size_t i = 0; config_key_at(i, &k); i++) {
		size_t n = strlen(k.name);
		if ((k.programs & CONFIG_CLI) && strncmp(flag + 2, k.name, n) == 0 &&
		    (flag[2 + n] == '\0' || strcmp(flag + 2 + n, "-file") == 0))
			return true;
	}
	return false;
}

/*
 * Checks one shown command line, "conformctl [SETTING]... GROUP [NAME] ...":
 * GROUP must be a group and, when its commands have names, NAME one of
 * them (or --help, or nothing: the group as such). Returns 1 when it checked
 * a command, 0 for a mention with no group (as in "conformctl's").
 */
static int check_mention(const char *where, int lineno, const char *text)
{
	char copy[512];
	snprintf(copy, sizeof copy, "%s", text);
	char *save = NULL;
	char *w = strtok_r(copy, " \t", &save); /* "conformctl" */
	for (w = strtok_r(NULL, " \t", &save); w && strncmp(w, "--", 2) == 0;
	     w = strtok_r(NULL, " \t", &save))
		if (flag_takes_value(w))
			strtok_r(NULL, " \t", &save);
	if (!w || !islower((unsigned char)w[0]))
		return 0;
	char *name = strtok_r(NULL, " \t", &save);
	bool group = false, command = false, named = false;
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++) {
			if (strcmp(c->group, w) != 0)
				continue;
			group = true;
			named = c->name[0] != '\0';
			if (!named || (name && strcmp(c->name, name) == 0))
				command = true;
		}
	ck_assert_msg(group, "%s:%d: \"%s\": conformctl has no command %s", where, lineno, text, w);
	ck_assert_msg(command || !name || strncmp(name, "--", 2) == 0 || !named,
		      "%s:%d: \"%s\": conformctl %s has no command %s", where, lineno, text, w, name);
	return 1;
}

/*
 * Every conformctl command line a document shows: in code blocks, the lines
 * that run conformctl (also as build/conformctl); elsewhere, the code spans
 * that start with "conformctl ". Returns how many were checked.
 */
static int check_mentions(const char *relative)
{
	char *path = tsupport_source_path(relative);
	char *text = tsupport_read_file(path, NULL);
	free(path);
	int checked = 0, lineno = 0;
	bool fence = false;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		char *l = line + strspn(line, " \t");
		if (strncmp(l, "```", 3) == 0) {
			fence = !fence;
			continue;
		}
		if (fence) {
			/* a line that runs conformctl, maybe by a path ("build/conformctl")
			 * or after "$ " (not "CONFORMCTL=/usr/bin/conformctl script") */
			if (strncmp(l, "$ ", 2) == 0)
				l += 2;
			char *c = strstr(l, "conformctl ");
			if (c && (c == l || c[-1] == '/') && !memchr(l, '=', (size_t)(c - l)) &&
			    !memchr(l, ' ', (size_t)(c - l))) {
				char cmd[512];
				snprintf(cmd, sizeof cmd, "%.*s", (int)strcspn(c, "#|&;"), c);
				checked += check_mention(relative, lineno, cmd);
			}
			continue;
		}
		for (char *open = strchr(l, '`'); open; ) {
			char *close = strchr(open + 1, '`');
			if (!close)
				break;
			if (strncmp(open + 1, "conformctl ", 11) == 0) {
				char span[512];
				snprintf(span, sizeof span, "%.*s", (int)(close - open - 1), open + 1);
				checked += check_mention(relative, lineno, span);
			}
			open = strchr(close + 1, '`');
		}
	}
	free(text);
	return checked;
}

START_TEST(every_command_shown_exists)
{
	static const char *const docs[] = { "README.md", "docs/operations.md",
					    "docs/architecture.md", "docs/verify.md",
					    "docs/certificates.md", "docs/workflow.md",
					    "docs/scheme-format.md", "docs/feed-consumers.md",
					    "docs/complaints.md" };
	int total = 0;
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
		total += check_mentions(docs[i]);
	/* the walk finds them at all (the Commands table alone has 33) */
	ck_assert_int_ge(total, 60);
}
END_TEST

/* conformctl --help lists every command of the table as "GROUP [NAME] ARGS". */
START_TEST(help_lists_every_command)
{
	char *bin = testsrv_binary("conformctl");
	struct proc_result r;
	proc_run(&r, (const char *[]){ bin, "--help", NULL }, NULL);
	ck_assert_msg(r.status == 0, "conformctl --help: exit %d: %s", r.status, r.err);
	int listed = 0;
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++) {
			char words[64], line[160];
			command_words(c, words, sizeof words);
			snprintf(line, sizeof line, "\n  %s %s", words, c->args);
			size_t n = strlen(line);
			while (line[n - 1] == ' ')
				line[--n] = '\0';
			const char *at = strstr(r.out, line);
			ck_assert_msg(at && (at[n] == ' '), "conformctl --help does not list \"%s\"",
				      line + 3);
			listed++;
		}
	/* and nothing else in the Commands block */
	const char *block = strstr(r.out, "Commands:\n");
	ck_assert_ptr_nonnull(block);
	int lines = 0;
	for (const char *p = block + 10; strncmp(p, "  ", 2) == 0; p = strchr(p, '\n') + 1)
		lines++;
	ck_assert_int_eq(lines, listed);
	proc_result_free(&r);
	free(bin);
}
END_TEST

/* Every command answers --help with its own usage line and exit 0: the
 * table's handler parses its options with cli_parse. */
START_TEST(every_command_has_help)
{
	char *bin = testsrv_binary("conformctl");
	for (size_t g = 0; g < cli_group_count; g++)
		for (const struct cli_command *c = cli_groups[g]; c->group; c++) {
			struct proc_result r;
			const char *argv[] = { bin, c->group, c->name[0] ? c->name : "--help",
					       c->name[0] ? "--help" : NULL, NULL };
			/* no database: --help must not need one */
			proc_run(&r, argv,
				 (const char *[]){ "CONFORM_DATABASE_URL=host=/nonexistent dbname=none",
						   "CONFORM_CONFIG=", NULL });
			char words[64], want[128];
			command_words(c, words, sizeof words);
			snprintf(want, sizeof want, "Usage: conformctl %s [OPTION]...%s%s\n", words,
				 c->args[0] ? " " : "", c->args);
			ck_assert_msg(r.status == 0, "conformctl %s --help: exit %d: %s", words, r.status,
				      r.err);
			ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0,
				      "conformctl %s --help begins \"%.80s\", not \"%s\"", words, r.out,
				      want);
			proc_result_free(&r);
		}
	free(bin);
}
END_TEST

/* Each group's --help lists exactly its commands. */
START_TEST(group_help_lists_its_commands)
{
	char *bin = testsrv_binary("conformctl");
	for (size_t g = 0; g < cli_group_count; g++) {
		const struct cli_command *first = cli_groups[g];
		if (!first->name[0])
			continue; /* the group is the command */
		struct proc_result r;
		proc_run(&r, (const char *[]){ bin, first->group, "--help", NULL }, NULL);
		ck_assert_msg(r.status == 0, "conformctl %s --help: exit %d", first->group, r.status);
		for (const struct cli_command *c = first; c->group; c++) {
			if (strcmp(c->group, first->group) != 0)
				continue; /* "janitor", in the table of evidence */
			char want[96];
			snprintf(want, sizeof want, "\n  %s ", c->name);
			ck_assert_msg(strstr(r.out, want), "conformctl %s --help does not list %s",
				      c->group, c->name);
		}
		proc_result_free(&r);
	}
	free(bin);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("doc_tables");
	TCase *tc = tcase_create("settings");
	tcase_add_test(tc, every_setting_is_documented);
	tcase_add_test(tc, one_program_settings_say_which);
	suite_add_tcase(s, tc);
	tc = tcase_create("commands");
	tcase_add_test(tc, every_command_is_documented);
	tcase_add_loop_test(tc, the_docs_name_nothing_else, 0, (int)(sizeof doc_keys / sizeof doc_keys[0]));
	tcase_add_test(tc, every_command_shown_exists);
	tcase_add_test(tc, help_lists_every_command);
	tcase_add_test(tc, every_command_has_help);
	tcase_add_test(tc, group_help_lists_its_commands);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
